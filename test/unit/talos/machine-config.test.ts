// Reading and patching Kubernetes images in Talos machine configurations, and the image and
// compatibility rules the Kubernetes phase relies on.

import { imageVersion, kubernetesImage } from "../../../src/core/image-refs.ts";
import {
  removedBetween,
  removedIn,
  removedInArgs,
  unsupportedCombination,
} from "../../../src/core/kubernetes-compat.ts";
import { configImages, installKernelArgs, withComponentImage } from "../../../src/talos/machine-config.ts";

const v1alpha1 = `# written by a person
version: v1alpha1 # the only version
debug: false
machine:
  type: controlplane
  kubelet:
    image: ghcr.io/siderolabs/kubelet:v1.34.2 # pinned
    extraArgs:
      rotate-server-certificates: "true"
  install:
    disk: /dev/sda
cluster:
  apiServer:
    image: registry.k8s.io/kube-apiserver:v1.34.2
    certSANs: [127.0.0.1]
  controllerManager:
    image: registry.k8s.io/kube-controller-manager:v1.34.2
  scheduler:
    image: registry.k8s.io/kube-scheduler:v1.34.2
  proxy:
    image: registry.k8s.io/kube-proxy:v1.34.2
`;

describe("machine configuration images", () => {
  it("reads every component's image from the v1alpha1 document", () => {
    expect(configImages(v1alpha1)).toEqual({
      images: {
        "kube-apiserver": "registry.k8s.io/kube-apiserver:v1.34.2",
        "kube-controller-manager": "registry.k8s.io/kube-controller-manager:v1.34.2",
        "kube-scheduler": "registry.k8s.io/kube-scheduler:v1.34.2",
        "kube-proxy": "registry.k8s.io/kube-proxy:v1.34.2",
        kubelet: "ghcr.io/siderolabs/kubelet:v1.34.2",
      },
      proxyDisabled: false,
    });
  });

  it("changes one line and keeps the rest of the text, comments included", () => {
    const patched = withComponentImage(v1alpha1, "kube-apiserver", "registry.k8s.io/kube-apiserver:v1.35.0");
    const before = v1alpha1.split("\n");
    const after = patched.split("\n");
    expect(after).toHaveLength(before.length);
    const changed = after.flatMap((line, i) => (line === before[i] ? [] : [[before[i], line]]));
    expect(changed).toEqual([
      [
        "    image: registry.k8s.io/kube-apiserver:v1.34.2",
        "    image: registry.k8s.io/kube-apiserver:v1.35.0",
      ],
    ]);
    const kubelet = withComponentImage(v1alpha1, "kubelet", "ghcr.io/siderolabs/kubelet:v1.35.0");
    expect(kubelet).toContain("image: ghcr.io/siderolabs/kubelet:v1.35.0 # pinned");
  });

  it("returns the same text when the image is already set", () => {
    const same = withComponentImage(v1alpha1, "kube-proxy", "registry.k8s.io/kube-proxy:v1.34.2");
    expect(same).toBe(v1alpha1);
  });

  it("adds the field when the config names no image", () => {
    const bare = "version: v1alpha1\nmachine:\n  type: worker\ncluster:\n  network: {}\n";
    const patched = withComponentImage(bare, "kubelet", "ghcr.io/siderolabs/kubelet:v1.35.0");
    expect(configImages(patched).images.kubelet).toBe("ghcr.io/siderolabs/kubelet:v1.35.0");
    expect(patched).toContain("type: worker");
  });

  it("patches the Talos 1.14 documents where present and leaves v1alpha1 alone", () => {
    const multi = `${v1alpha1}---
apiVersion: v1alpha1
kind: KubeAPIServerConfig
image: registry.k8s.io/kube-apiserver:v1.34.3
---
apiVersion: v1alpha1
kind: KubeProxyConfig
disabled: true
`;
    expect(configImages(multi).images["kube-apiserver"]).toBe("registry.k8s.io/kube-apiserver:v1.34.3");
    expect(configImages(multi).proxyDisabled).toBe(true);
    const patched = withComponentImage(multi, "kube-apiserver", "registry.k8s.io/kube-apiserver:v1.35.0");
    expect(patched).toContain("kind: KubeAPIServerConfig\nimage: registry.k8s.io/kube-apiserver:v1.35.0\n");
    expect(patched).toContain("    image: registry.k8s.io/kube-apiserver:v1.34.2\n");
    expect(patched.split("---").length).toBe(3);
    expect(patched.startsWith("# written by a person\nversion: v1alpha1")).toBe(true);
  });

  it("refuses text that is not YAML or has no v1alpha1 document, with a reason", () => {
    expect(() => configImages("version: [")).toThrow(/not valid YAML/);
    expect(() => withComponentImage("kind: KubeletConfig2\n", "kube-apiserver", "x:v1")).toThrow(
      /no v1alpha1 document/,
    );
  });
});

describe("machine.install's kernel arguments", () => {
  it("reads extraKernelArgs and grubUseUKICmdline from the v1alpha1 document", () => {
    const config = `version: v1alpha1
machine:
  install:
    disk: /dev/sda
    extraKernelArgs:
      - console=ttyS1,115200
      - net.ifnames=0
---
apiVersion: v1alpha1
kind: KubeletConfig
`;
    expect(installKernelArgs(config)).toEqual({
      kernelArgs: ["console=ttyS1,115200", "net.ifnames=0"],
      grubUseUKICmdline: false,
    });
    expect(
      installKernelArgs("version: v1alpha1\nmachine:\n  install:\n    grubUseUKICmdline: true\n"),
    ).toEqual({ kernelArgs: [], grubUseUKICmdline: true });
  });

  it("has none where the configuration says none", () => {
    expect(installKernelArgs("version: v1alpha1\nmachine:\n  type: worker\n")).toEqual({
      kernelArgs: [],
      grubUseUKICmdline: false,
    });
  });
});

describe("Kubernetes image references", () => {
  it.each([
    [undefined, "v1.35.0", "ghcr.io/siderolabs/kubelet:v1.35.0"],
    ["ghcr.io/siderolabs/kubelet:v1.34.2", "v1.35.0", "ghcr.io/siderolabs/kubelet:v1.35.0"],
    ["ghcr.io/siderolabs/kubelet:v1.34.2-fat", "v1.35.0", "ghcr.io/siderolabs/kubelet:v1.35.0-fat"],
    ["mirror.internal:5000/k/kubelet:v1.34.2-slim", "v1.35.0", "mirror.internal:5000/k/kubelet:v1.35.0-slim"],
    [
      `ghcr.io/siderolabs/kubelet:v1.34.2@sha256:${"a".repeat(64)}`,
      "v1.35.0",
      "ghcr.io/siderolabs/kubelet:v1.35.0",
    ],
  ])("%s at %s is %s", (current, version, expected) => {
    expect(kubernetesImage(current, "ghcr.io/siderolabs/kubelet", version)).toBe(expected);
  });

  it("reads the version from a tag, without the flavour", () => {
    expect(imageVersion("ghcr.io/siderolabs/kubelet:v1.34.2-fat")).toBe("v1.34.2");
    expect(imageVersion("registry.k8s.io/kube-apiserver:v1.35.0")).toBe("v1.35.0");
    expect(imageVersion("registry.k8s.io/kube-apiserver")).toBeUndefined();
    expect(imageVersion(undefined)).toBeUndefined();
  });
});

describe("Talos and Kubernetes compatibility", () => {
  it.each([
    ["v1.12.4", "v1.30.0", undefined],
    ["v1.12.4", "v1.35.9", undefined],
    ["v1.12.4", "v1.36.0", "Talos v1.12.4 supports Kubernetes v1.30 to v1.35, not v1.36.0"],
    ["v1.12.4", "v1.29.3", "Talos v1.12.4 supports Kubernetes v1.30 to v1.35, not v1.29.3"],
    ["v1.13.0", "v1.36.1", undefined],
    ["v1.15.0", "v1.38.0", undefined],
    ["v1.16.0", "v1.38.0", "Talos v1.16.0 is not in this operator's support table (Talos v1.7 to v1.15)"],
    ["v1.6.7", "v1.29.0", "Talos v1.6.7 is not in this operator's support table (Talos v1.7 to v1.15)"],
  ])("Talos %s with Kubernetes %s", (talos, kubernetes, problem) => {
    expect(unsupportedCombination(talos, kubernetes)).toBe(problem);
  });

  it("collects what every minor passed removed", () => {
    expect(removedBetween("v1.34.2", "v1.35.0").kubeletFlags).toEqual(["pod-infra-container-image"]);
    expect(removedBetween("v1.35.1", "v1.35.4")).toEqual({
      featureGates: [],
      kubeletFlags: [],
      apiServerFlags: [],
      controllerManagerFlags: [],
      admissionPlugins: [],
      apiResources: [],
    });
    const two = removedBetween("v1.31.0", "v1.33.0");
    expect(two.apiResources).toEqual(["podschedulingcontexts.v1alpha3.resource.k8s.io"]);
    expect(two.apiServerFlags).toEqual(["cloud-config"]);
  });

  it("covers every minor a supported Talos runs (1.25 → 1.37), each row saying where it comes from", () => {
    expect(Object.keys(removedIn).map(Number)).toEqual([26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37]);
    for (const [minor, row] of Object.entries(removedIn)) {
      expect({ minor, source: row.source }).toEqual({
        minor,
        source: expect.stringMatching(new RegExp(`CHANGELOG-1\\.${minor}\\.md|v1\\.${minor}|1\\.${minor}`)),
      });
    }
    const early = removedBetween("v1.25.9", "v1.27.0");
    expect(early.featureGates).toContain("DynamicKubeletConfig");
    expect(early.kubeletFlags).toEqual(["container-runtime", "master-service-namespace"]);
    expect(removedBetween("v1.36.0", "v1.37.0").apiResources).toEqual([
      "podgroups.v1alpha2.scheduling.k8s.io",
      "workloads.v1alpha2.scheduling.k8s.io",
    ]);
  });

  it("finds removed flags, feature gates and admission plugins in command lines", () => {
    const removed = removedBetween("v1.29.0", "v1.35.0");
    expect(
      removedInArgs(
        [
          "kube-apiserver",
          "--cloud-config=/x",
          "--enable-admission-plugins=NodeRestriction,SecurityContextDeny",
        ],
        "kube-apiserver",
        removed,
      ),
    ).toEqual(["flag --cloud-config", "admission plugin SecurityContextDeny"]);
    expect(removedInArgs(["--feature-gates=KMSv2=true,Foo=false"], "kube-scheduler", removed)).toEqual([
      "feature gate KMSv2",
    ]);
    expect(removedInArgs(["--cloud-config=/x"], "kube-scheduler", removed)).toEqual([]);
    expect(removedInArgs(["--v=2"], "kubelet", removed)).toEqual([]);
  });
});
