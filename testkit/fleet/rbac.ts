// Talos' per-method role table (machined's rules): what each role may call. Methods not listed
// need os:admin, as in Talos.
export type TalosRole = "os:admin" | "os:operator" | "os:reader" | "os:etcd:backup";

const admin: TalosRole[] = ["os:admin"];
const operator: TalosRole[] = ["os:admin", "os:operator"];
const reader: TalosRole[] = ["os:admin", "os:operator", "os:reader"];
const etcdReader: TalosRole[] = [...reader, "os:etcd:backup"];
/** Taking an etcd snapshot: not for readers, but for a backup job's own role. */
const etcdBackup: TalosRole[] = [...operator, "os:etcd:backup"];

const rules: Record<string, TalosRole[]> = {
  "/machine.MachineService/Version": reader,
  "/machine.MachineService/Hostname": reader,
  "/machine.MachineService/ServiceList": reader,
  "/machine.MachineService/Memory": reader,
  "/machine.MachineService/Events": reader,
  "/machine.MachineService/EtcdMemberList": etcdReader,
  "/machine.MachineService/EtcdStatus": etcdReader,
  "/machine.MachineService/EtcdAlarmList": etcdReader,
  "/machine.MachineService/EtcdSnapshot": etcdBackup,
  "/machine.MachineService/Reboot": operator,
  "/machine.MachineService/ImagePull": operator,
  "/machine.ImageService/Pull": operator,
  "/cosi.resource.State/Get": reader,
  "/cosi.resource.State/List": reader,
  "/cosi.resource.State/Watch": reader,
};

export function allowedRoles(method: string): TalosRole[] {
  return rules[method] ?? admin;
}

export function mayCall(method: string, roles: string[]): boolean {
  return allowedRoles(method).some((role) => roles.includes(role));
}
