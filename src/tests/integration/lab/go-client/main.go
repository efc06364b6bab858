// Command go-client drives a Proxmox VE API the way capmox does, with the real
// github.com/luthermonson/go-proxmox module: full-clone a template to a shared storage on
// another node (capmox's target = any allowed node), configure it, resize its disk, inject a cloud-init ISO, start it, talk to the guest agent, stop and delete it.
// The lab's integration test runs it against the lab; it works the same against a real PVE.
//
// Environment: PROXMOX_URL (no /api2/json), PROXMOX_TOKEN, PROXMOX_SECRET, PROXMOX_CA_FILE.
// Output: one "step <name>: <detail>" line per step; exit status 1 on the first failure.
package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	proxmox "github.com/luthermonson/go-proxmox"
)

func fail(step string, err error) {
	fmt.Printf("FAIL %s: %v\n", step, err)
	os.Exit(1)
}

func check(step string, ok bool, format string, args ...any) {
	if !ok {
		fail(step, fmt.Errorf(format, args...))
	}
}

func step(name, format string, args ...any) {
	fmt.Printf("step %s: %s\n", name, fmt.Sprintf(format, args...))
}

func wait(ctx context.Context, name string, task *proxmox.Task) {
	if err := task.Wait(ctx, 100*time.Millisecond, 30*time.Second); err != nil {
		fail(name, err)
	}
	check(name, task.IsSuccessful, "task %s ended with %q", task.UPID, task.ExitStatus)
}

var (
	uuidRE = regexp.MustCompile(`(^|,)uuid=([0-9a-fA-F-]+)`)
	macRE  = regexp.MustCompile(`=([^,]+),bridge`)
)

func main() {
	ctx := context.Background()
	for _, v := range []string{"PROXMOX_URL", "PROXMOX_TOKEN", "PROXMOX_SECRET", "PROXMOX_CA_FILE"} {
		if os.Getenv(v) == "" {
			fail("env", fmt.Errorf("%s is not set", v))
		}
	}
	client := proxmox.NewClient(os.Getenv("PROXMOX_URL")+"/api2/json",
		proxmox.WithAPIToken(os.Getenv("PROXMOX_TOKEN"), os.Getenv("PROXMOX_SECRET")),
		proxmox.WithRootCAFile(os.Getenv("PROXMOX_CA_FILE")),
	)

	version, err := client.Version(ctx)
	if err != nil {
		fail("version", err)
	}
	step("version", "release %s", version.Release)

	cluster, err := client.Cluster(ctx)
	if err != nil {
		fail("cluster", err)
	}
	step("cluster", "%s quorate=%d nodes=%d", cluster.Name, cluster.Quorate, len(cluster.Nodes))

	resources, err := cluster.Resources(ctx, "vm")
	if err != nil {
		fail("resources", err)
	}
	var tmplNode string
	var tmplID int
	for _, r := range resources {
		if r.Template == 0 {
			continue
		}
		for _, tag := range strings.Split(strings.ToLower(r.Tags), ";") {
			if tag == "k8s-template" {
				tmplNode, tmplID = r.Node, int(r.VMID)
			}
		}
	}
	check("template", tmplID != 0, "no template tagged k8s-template in %d resources", len(resources))
	step("template", "%d on %s", tmplID, tmplNode)

	node, err := client.Node(ctx, tmplNode)
	if err != nil {
		fail("node", err)
	}
	check("node", node.Memory.Total > 0, "node %s reports no memory", tmplNode)
	step("node", "%s memory.total=%d", node.Name, node.Memory.Total)

	// Every online node's status, as capmox's scheduler reads it: cpuinfo must parse into
	// go-proxmox's integers whatever the node's CPU count.
	statuses, err := client.Nodes(ctx)
	if err != nil {
		fail("nodes", err)
	}
	var cores []string
	for _, s := range statuses {
		if s.Status != "online" {
			continue
		}
		n, err := client.Node(ctx, s.Node)
		if err != nil {
			fail("nodes", err)
		}
		cores = append(cores, fmt.Sprintf("%s=%d/%d", n.Name, n.CPUInfo.Cores, n.CPUInfo.CPUs))
	}
	sort.Strings(cores)
	step("nodes", "cpuinfo cores/cpus %s", strings.Join(cores, " "))

	tmpl, err := node.VirtualMachine(ctx, tmplID)
	if err != nil {
		fail("template-config", err)
	}
	check("template-config", bool(tmpl.Template), "VM %d is not a template", tmplID)

	newid, err := cluster.NextID(ctx)
	if err != nil {
		fail("nextid", err)
	}
	free, err := cluster.CheckID(ctx, newid)
	if err != nil {
		fail("checkid", err)
	}
	taken, err := cluster.CheckID(ctx, tmplID)
	if err != nil {
		fail("checkid", err)
	}
	check("checkid", free && !taken, "CheckID(%d)=%v CheckID(%d)=%v", newid, free, tmplID, taken)
	step("nextid", "%d", newid)

	// Like capmox: the clone request goes to the template's node with target = another node,
	// which PVE allows only when the disks are on shared storage.
	storage := sharedImageStorage(ctx, node)
	target := otherOnlineNode(cluster, tmplNode)
	step("target", "%s storage=%s", target, storage)

	name := "capmox-worker-0"
	_, task, err := tmpl.Clone(ctx, &proxmox.VirtualMachineCloneOptions{
		NewID: newid, Name: name, Full: true, Storage: storage, Target: target,
	})
	if err != nil {
		fail("clone", err)
	}
	wait(ctx, "clone", task)
	node, err = client.Node(ctx, target)
	if err != nil {
		fail("clone", err)
	}
	vm, err := node.VirtualMachine(ctx, newid)
	if err != nil {
		fail("clone", err)
	}
	uuid := uuidRE.FindStringSubmatch(vm.VirtualMachineConfig.SMBios1)
	check("clone", vm.Name == name && uuid != nil, "name=%q smbios1=%q", vm.Name, vm.VirtualMachineConfig.SMBios1)
	tmplUUID := uuidRE.FindStringSubmatch(tmpl.VirtualMachineConfig.SMBios1)
	check("clone", tmplUUID == nil || tmplUUID[2] != uuid[2], "clone kept the template's SMBIOS uuid")
	scsi0 := vm.VirtualMachineConfig.SCSIs["scsi0"]
	check("clone", vm.Node == target && strings.HasPrefix(scsi0, storage+":"), "node=%q scsi0=%q", vm.Node, scsi0)
	step("clone", "%d %s on %s scsi0=%s providerID=proxmox://%s", newid, vm.Name, vm.Node, scsi0, uuid[2])

	task, err = vm.Config(ctx,
		proxmox.VirtualMachineOption{Name: "cores", Value: 4},
		proxmox.VirtualMachineOption{Name: "memory", Value: 4096},
		proxmox.VirtualMachineOption{Name: "net0", Value: "virtio,bridge=vmbr0,tag=100"},
		// Written the way capmox appends (old;new), with the separators and repeats PVE cleans up.
		proxmox.VirtualMachineOption{Name: "tags", Value: tmpl.VirtualMachineConfig.Tags + ";capmox, zz-capi capmox;;"},
	)
	if err != nil {
		fail("configure", err)
	}
	wait(ctx, "configure", task)
	task, err = vm.ResizeDisk(ctx, "scsi0", "40G")
	if err != nil {
		fail("resize", err)
	}
	wait(ctx, "resize", task)
	vm, err = node.VirtualMachine(ctx, newid)
	if err != nil {
		fail("configure", err)
	}
	mac := macRE.FindStringSubmatch(vm.VirtualMachineConfig.Nets["net0"])
	check("configure", vm.VirtualMachineConfig.Cores != nil && *vm.VirtualMachineConfig.Cores == 4 && mac != nil && strings.Contains(vm.VirtualMachineConfig.SCSIs["scsi0"], "size=40G"),
		"cores=%v net0=%q scsi0=%q", vm.VirtualMachineConfig.Cores, vm.VirtualMachineConfig.Nets["net0"], vm.VirtualMachineConfig.SCSIs["scsi0"])
	step("configure", "net0=%s scsi0=%s tags=%s", vm.VirtualMachineConfig.Nets["net0"], vm.VirtualMachineConfig.SCSIs["scsi0"], vm.VirtualMachineConfig.Tags)

	meta := fmt.Sprintf("instance-id: %s\nlocal-hostname: %s\nhostname: %s\n", uuid[2], name, name)
	network := fmt.Sprintf("network:\n  version: 2\n  ethernets:\n    eth0:\n      match:\n        macaddress: %s\n      dhcp4: true\n", strings.ToLower(mac[1]))
	if err := vm.CloudInit(ctx, "ide0", "#cloud-config\nhostname: "+name+"\n", meta, "", network); err != nil {
		fail("cloud-init", err)
	}
	vm, err = node.VirtualMachine(ctx, newid)
	if err != nil {
		fail("cloud-init", err)
	}
	check("cloud-init", strings.Contains(vm.VirtualMachineConfig.IDEs["ide0"], "iso/user-data-") && strings.HasSuffix(vm.VirtualMachineConfig.Boot, ";ide0"),
		"ide0=%q boot=%q", vm.VirtualMachineConfig.IDEs["ide0"], vm.VirtualMachineConfig.Boot)
	step("cloud-init", "ide0=%s boot=%s", vm.VirtualMachineConfig.IDEs["ide0"], vm.VirtualMachineConfig.Boot)

	task, err = vm.Start(ctx)
	if err != nil {
		fail("start", err)
	}
	wait(ctx, "start", task)
	vm, err = node.VirtualMachine(ctx, newid)
	if err != nil {
		fail("status", err)
	}
	check("status", vm.IsRunning(), "status=%q qmpstatus=%q", vm.Status, vm.QMPStatus)
	step("status", "%s", vm.Status)

	if err := vm.WaitForAgent(ctx, 15); err != nil {
		fail("agent", err)
	}
	osinfo, err := vm.AgentOsInfo(ctx)
	if err != nil {
		fail("agent", err)
	}
	pid, err := vm.AgentExec(ctx, []string{"cloud-init", "status"}, "")
	if err != nil {
		fail("agent-exec", err)
	}
	st, err := vm.WaitForAgentExecExit(ctx, pid, 5)
	if err != nil {
		fail("agent-exec", err)
	}
	check("agent-exec", st.ExitCode == 0 && strings.Contains(st.OutData, "done"), "exitcode=%d out=%q", st.ExitCode, st.OutData)
	ifaces, err := vm.AgentGetNetworkIFaces(ctx)
	if err != nil {
		fail("agent-ifaces", err)
	}
	// go-proxmox drops "lo": eth0 is the only interface left.
	check("agent-ifaces", len(ifaces) == 1 && strings.EqualFold(ifaces[0].HardwareAddress, mac[1]) && len(ifaces[0].IPAddresses) > 0,
		"%d interfaces, first %+v", len(ifaces), ifaces[0])
	step("agent", "%s; cloud-init %q; eth0 %s %s", osinfo.PrettyName, strings.TrimSpace(st.OutData), ifaces[0].HardwareAddress, ifaces[0].IPAddresses[0].IPAddress)

	task, err = vm.Stop(ctx)
	if err != nil {
		fail("stop", err)
	}
	wait(ctx, "stop", task)
	vm, err = node.VirtualMachine(ctx, newid)
	if err != nil {
		fail("stop", err)
	}
	check("stop", vm.IsStopped(), "status=%q", vm.Status)
	step("stop", "%s", vm.Status)

	task, err = vm.Delete(ctx, nil)
	if err != nil {
		fail("delete", err)
	}
	wait(ctx, "delete", task)
	_, err = node.VirtualMachine(ctx, newid)
	check("delete", err != nil && strings.Contains(err.Error(), "does not exist"), "VM still readable: %v", err)
	free, err = cluster.CheckID(ctx, newid)
	check("delete", err == nil && free, "CheckID(%d) after delete: %v %v", newid, free, err)
	step("delete", "%v", err)
	fmt.Println("ALL STEPS PASSED")
}

// sharedImageStorage is the first enabled storage of node that holds VM images and is
// shared between nodes (the only kind a clone to another node may use).
func sharedImageStorage(ctx context.Context, node *proxmox.Node) string {
	storages, err := node.Storages(ctx)
	if err != nil {
		fail("storage", err)
	}
	for _, s := range storages {
		if s.Enabled == 1 && s.Shared == 1 && strings.Contains(","+s.Content+",", ",images,") {
			return s.Name
		}
	}
	fail("storage", fmt.Errorf("node %s has no enabled shared storage for images among %d storages", node.Name, len(storages)))
	return ""
}

// otherOnlineNode is the first online cluster node (by name) other than exclude.
func otherOnlineNode(cluster *proxmox.Cluster, exclude string) string {
	var names []string
	for _, n := range cluster.Nodes {
		if n.Online == 1 && n.Name != exclude {
			names = append(names, n.Name)
		}
	}
	check("target", len(names) > 0, "no online node besides %s among %d", exclude, len(cluster.Nodes))
	sort.Strings(names)
	return names[0]
}
