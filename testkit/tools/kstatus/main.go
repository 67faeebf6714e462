// Command kstatus reads one Kubernetes object, as YAML or JSON, from standard input and prints what
// kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status, the library Flux computes readiness with) says
// of it, as one JSON line: {"status":"Current|InProgress|Failed|Terminating|NotFound|Unknown","message":"..."}.
// Input that is not exactly one object with apiVersion and kind is an error: a message on standard
// error and exit status 1 (2 when the arguments are wrong).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: kstatus <object.yaml (reads one Kubernetes object, YAML or JSON, from standard input)")
		os.Exit(2)
	}
	object, err := readObject(os.Stdin)
	if err != nil {
		fail(err)
	}
	result, err := status.Compute(object)
	if err != nil {
		fail(fmt.Errorf("kstatus could not compute the status: %w", err))
	}
	line, err := json.Marshal(verdict{Status: result.Status.String(), Message: result.Message})
	if err != nil {
		fail(err)
	}
	fmt.Println(string(line))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "kstatus: %v\n", err)
	os.Exit(1)
}

// readObject decodes the one document on in. YAML documents are split on "---" lines (JSON is YAML);
// documents holding nothing but comments are ignored. The object is decoded by apimachinery's
// unstructured decoder, so whole numbers come out as int64, which kstatus' generation checks need.
func readObject(in io.Reader) (*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
	var found []byte
	for {
		document, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		asJSON, err := yaml.YAMLToJSON(document)
		if err != nil {
			return nil, fmt.Errorf("the input is not YAML or JSON: %w", err)
		}
		asJSON = bytes.TrimSpace(asJSON)
		if len(asJSON) == 0 || bytes.Equal(asJSON, []byte("null")) {
			continue
		}
		if found != nil {
			return nil, errors.New("the input holds more than one document; give one object")
		}
		found = asJSON
	}
	if found == nil {
		return nil, errors.New("the input holds no object")
	}
	if found[0] != '{' {
		return nil, errors.New("the input is not an object (a mapping with apiVersion and kind)")
	}
	object := &unstructured.Unstructured{}
	if err := object.UnmarshalJSON(found); err != nil {
		return nil, fmt.Errorf("the input is not a Kubernetes object: %w", err)
	}
	if object.GetAPIVersion() == "" || object.GetKind() == "" {
		return nil, errors.New("the input is not a Kubernetes object: it needs apiVersion and kind")
	}
	return object, nil
}
