//! The Kubernetes node path: the calls a kubelet makes, sent to containerd's CRI plugin, with
//! each runtime handler in turn (skiff, then runc). Every handler must meet the expectations
//! below, and what the two show (states, exit codes, reasons, outputs, cgroup values) must be
//! the same. Afterwards nothing may be left of the pods: no runtime state, cgroup, mount or
//! process.
//!
//! `integration/engines/cri.sh` starts the containerd (own root, state and socket, the two
//! handlers, host-network pods only), builds the images offline and runs this test with:
//!   CRI_SOCKET          containerd's socket
//!   CRI_HANDLERS        the handlers, the one under test first ("skiff runc")
//!   CRI_ROOTS           each handler's runtime root, in the same order
//!   CRI_IMAGE           the busybox image
//!   CRI_CGROUP_DRIVER   cgroupfs or systemd (containerd's SystemdCgroup)
//!   CRI_WORK            a directory for the pods' logs
//! Without them the test fails and says so.
//!
//! `wasm_pods_run_modules` takes a third handler, skiff's for WebAssembly (a RuntimeClass
//! handler whose pods carry `run.oci.handler: wasm`, passed on by containerd's
//! `pod_annotations`), with:
//!   CRI_WASM_HANDLER    its name
//!   CRI_WASM_ROOT       its runtime root
//!   CRI_WASM_IMAGE      an image holding the modules of integration/wasm and /data/in.txt

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use k8s_cri::v1::*;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};

type Cri = RuntimeServiceClient<Channel>;

/// What the test was given by the suite.
struct Setup {
    socket: String,
    handlers: Vec<String>,
    roots: Vec<PathBuf>,
    image: String,
    systemd: bool,
    work: PathBuf,
}

fn setup() -> Setup {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run this test through integration/engines/cri.sh (make test-cri), which starts containerd's CRI plugin")
        })
    };
    let driver = var("CRI_CGROUP_DRIVER");
    assert!(driver == "cgroupfs" || driver == "systemd", "CRI_CGROUP_DRIVER is cgroupfs or systemd, not {driver}");
    let handlers: Vec<String> = var("CRI_HANDLERS").split_whitespace().map(String::from).collect();
    let roots: Vec<PathBuf> = var("CRI_ROOTS").split_whitespace().map(PathBuf::from).collect();
    assert!(handlers.len() == 2 && roots.len() == 2, "CRI_HANDLERS and CRI_ROOTS name two handlers: the one under test and runc");
    Setup { socket: var("CRI_SOCKET"), handlers, roots, image: var("CRI_IMAGE"), systemd: driver == "systemd", work: PathBuf::from(var("CRI_WORK")) }
}

async fn connect(socket: &str) -> Cri {
    let socket = socket.to_string();
    // A call that hangs fails, naming itself, instead of stalling the suite.
    let channel = Endpoint::try_from("http://[::]")
        .expect("a constant URI")
        .timeout(Duration::from_secs(60))
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
        }))
        .await
        .expect("connect to containerd's CRI socket");
    RuntimeServiceClient::new(channel)
}

/// What one handler showed, by name of the observation: compared between the handlers.
type Record = BTreeMap<String, String>;

/// One handler's run: everything it must do, and what it showed.
struct Run<'a> {
    cri: Cri,
    setup: &'a Setup,
    handler: String,
    root: PathBuf,
    record: Record,
    /// Sandbox and container ids, cgroup directories and pids seen: none may be left.
    ids: Vec<String>,
    cgroups: Vec<PathBuf>,
    pids: Vec<u32>,
    /// ExecSync `true` latencies.
    exec_times: Vec<Duration>,
}

/// A host-network pod (no CNI), a PID namespace per container, IPC shared in the pod.
fn namespaces() -> NamespaceOption {
    NamespaceOption { network: NamespaceMode::Node as i32, pid: NamespaceMode::Container as i32, ipc: NamespaceMode::Pod as i32, ..Default::default() }
}

fn state_name(state: i32) -> String {
    ContainerState::try_from(state).map(|s| s.as_str_name().to_string()).unwrap_or_else(|_| format!("unknown state {state}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

/// The cgroup directory of `pid` for `controller` (v1), or its unified directory.
fn cgroup_dir(pid: u32, controller: &str) -> PathBuf {
    let table = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_else(|e| panic!("read /proc/{pid}/cgroup: {e}"));
    for line in table.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next(), fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        if controllers.split(',').any(|c| c == controller) {
            return Path::new("/sys/fs/cgroup").join(controller).join(path.trim_start_matches('/'));
        }
    }
    let unified = table.lines().find_map(|l| l.strip_prefix("0::")).unwrap_or_else(|| panic!("no {controller} cgroup for {pid}: {table}"));
    Path::new("/sys/fs/cgroup").join(unified.trim_start_matches('/'))
}

fn read_trimmed(path: &Path) -> String {
    std::fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_else(|e| format!("read {}: {e}", path.display()))
}

/// The memory limit, CPU quota/period and CPU weight of the cgroup of `pid`, as the host reads
/// them, in one form for v1 and v2: (limit, "quota period", shares or weight).
fn cgroup_values(pid: u32) -> (String, String, String) {
    let memory = cgroup_dir(pid, "memory");
    if memory.join("memory.limit_in_bytes").exists() {
        let cpu = cgroup_dir(pid, "cpu");
        let quota = format!("{} {}", read_trimmed(&cpu.join("cpu.cfs_quota_us")), read_trimmed(&cpu.join("cpu.cfs_period_us")));
        (read_trimmed(&memory.join("memory.limit_in_bytes")), quota, format!("shares {}", read_trimmed(&cpu.join("cpu.shares"))))
    } else {
        (read_trimmed(&memory.join("memory.max")), read_trimmed(&memory.join("cpu.max")), format!("weight {}", read_trimmed(&memory.join("cpu.weight"))))
    }
}

impl<'a> Run<'a> {
    fn note(&mut self, key: &str, value: impl Into<String>) {
        self.record.insert(key.to_string(), value.into());
    }

    /// Progress, on stderr: where a run that hangs or fails stopped.
    fn step(&self, step: &str) {
        eprintln!("cri: handler {}: {step}", self.handler);
    }

    fn what(&self, step: &str) -> String {
        format!("handler {}: {step}", self.handler)
    }

    async fn status(&mut self, id: &str) -> (ContainerStatus, serde_json::Value) {
        let response = self
            .cri
            .container_status(ContainerStatusRequest { container_id: id.into(), verbose: true })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.what("ContainerStatus")))
            .into_inner();
        let info = response.info.get("info").and_then(|i| serde_json::from_str(i).ok()).unwrap_or(serde_json::Value::Null);
        (response.status.unwrap_or_else(|| panic!("{}: no status", self.what("ContainerStatus"))), info)
    }

    async fn wait_exited(&mut self, id: &str, within: Duration) -> ContainerStatus {
        let deadline = Instant::now() + within;
        loop {
            let (status, _) = self.status(id).await;
            if status.state == ContainerState::ContainerExited as i32 || Instant::now() > deadline {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn exec(&mut self, id: &str, cmd: &[&str], timeout: i64) -> Result<ExecSyncResponse, tonic::Status> {
        let request = ExecSyncRequest { container_id: id.into(), cmd: cmd.iter().map(|s| s.to_string()).collect(), timeout };
        self.cri.exec_sync(request).await.map(|r| r.into_inner())
    }

    /// ExecSync that must succeed at the gRPC level; returns (exit code, stdout, stderr).
    async fn exec_ok(&mut self, id: &str, cmd: &[&str]) -> (i32, String, String) {
        let response = self.exec(id, cmd, 10).await.unwrap_or_else(|e| panic!("{}: {e}", self.what(&format!("ExecSync {cmd:?}"))));
        (response.exit_code, text(&response.stdout), text(&response.stderr))
    }

    fn pod_config(&self) -> PodSandboxConfig {
        self.pod_config_with(std::collections::HashMap::new())
    }

    fn pod_config_with(&self, annotations: std::collections::HashMap<String, String>) -> PodSandboxConfig {
        let handler = &self.handler;
        let cgroup_parent = if self.setup.systemd { format!("skiffcri-pod{handler}.slice") } else { format!("/skiffcri/pod-{handler}") };
        PodSandboxConfig {
            metadata: Some(PodSandboxMetadata { name: format!("cri-{handler}"), uid: format!("uid-{handler}"), namespace: "skiff-test".into(), attempt: 0 }),
            // Empty, as the kubelet leaves it for a host-network pod (no UTS namespace).
            hostname: String::new(),
            log_directory: self.setup.work.join(format!("pod-{handler}")).display().to_string(),
            annotations,
            linux: Some(LinuxPodSandboxConfig {
                cgroup_parent,
                security_context: Some(LinuxSandboxSecurityContext { namespace_options: Some(namespaces()), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn container_config(
        &self,
        name: &str,
        command: &[&str],
        resources: LinuxContainerResources,
        mut security: LinuxContainerSecurityContext,
    ) -> ContainerConfig {
        // As the kubelet does: the pod's namespaces, and a PID namespace of the container's own.
        security.namespace_options = Some(namespaces());
        ContainerConfig {
            metadata: Some(ContainerMetadata { name: name.into(), attempt: 0 }),
            image: Some(ImageSpec { image: self.setup.image.clone(), ..Default::default() }),
            command: command.iter().map(|s| s.to_string()).collect(),
            log_path: format!("{name}.log"),
            linux: Some(LinuxContainerConfig { resources: Some(resources), security_context: Some(security) }),
            ..Default::default()
        }
    }

    async fn create(&mut self, pod: &str, pod_config: &PodSandboxConfig, config: ContainerConfig) -> String {
        let name = config.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default();
        self.step(&format!("CreateContainer {name}"));
        let id = self
            .cri
            .create_container(CreateContainerRequest { pod_sandbox_id: pod.into(), config: Some(config), sandbox_config: Some(pod_config.clone()) })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.what(&format!("CreateContainer {name}"))))
            .into_inner()
            .container_id;
        self.ids.push(id.clone());
        id
    }

    async fn start(&mut self, id: &str) {
        self.step(&format!("StartContainer {id}"));
        self.cri.start_container(StartContainerRequest { container_id: id.into() }).await.unwrap_or_else(|e| panic!("{}: {e}", self.what("StartContainer")));
        let (_, info) = self.status(id).await;
        if let Some(pid) = info["pid"].as_u64() {
            self.pids.push(pid as u32);
        }
    }

    async fn remove(&mut self, id: &str) {
        self.step(&format!("RemoveContainer {id}"));
        self.cri.remove_container(RemoveContainerRequest { container_id: id.into() }).await.unwrap_or_else(|e| panic!("{}: {e}", self.what("RemoveContainer")));
    }

    /// RunPodSandbox with this handler: the sandbox's id, once it is ready.
    async fn run_pod(&mut self, pod_config: &PodSandboxConfig) -> String {
        std::fs::create_dir_all(&pod_config.log_directory).expect("make the pod's log directory");
        self.step("RunPodSandbox");
        let pod = self
            .cri
            .run_pod_sandbox(RunPodSandboxRequest { config: Some(pod_config.clone()), runtime_handler: self.handler.clone() })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.what("RunPodSandbox")))
            .into_inner()
            .pod_sandbox_id;
        self.ids.push(pod.clone());
        let sandbox =
            self.cri.pod_sandbox_status(PodSandboxStatusRequest { pod_sandbox_id: pod.clone(), verbose: true }).await.expect("PodSandboxStatus").into_inner();
        let sandbox_status = sandbox.status.expect("a sandbox status");
        self.note("sandbox state", PodSandboxState::try_from(sandbox_status.state).map(|s| s.as_str_name()).unwrap_or("?"));
        assert_eq!(sandbox_status.state, PodSandboxState::SandboxReady as i32, "{}", self.what("RunPodSandbox: the sandbox is ready"));
        let sandbox_info: serde_json::Value = sandbox.info.get("info").and_then(|i| serde_json::from_str(i).ok()).unwrap_or_default();
        assert_eq!(sandbox_info["runtimeHandler"], self.handler.as_str(), "{}: the sandbox runs with the handler asked for", self.handler);
        if let Some(pid) = sandbox_info["pid"].as_u64() {
            self.pids.push(pid as u32);
            self.cgroups.push(cgroup_dir(pid as u32, "memory"));
        }
        pod
    }

    /// The whole pod's life with this handler.
    async fn pod(&mut self) {
        let pod_config = self.pod_config();
        let pod = self.run_pod(&pod_config).await;
        self.main_container(&pod, &pod_config).await;
        self.exiting_containers(&pod, &pod_config).await;
        self.bidirectional_volume(&pod, &pod_config).await;
        self.stop_and_remove_pod(&pod).await;
    }

    /// StopPodSandbox, then RemovePodSandbox: the pod must be gone from the list.
    async fn stop_and_remove_pod(&mut self, pod: &str) {
        let pod = pod.to_string();
        self.step("StopPodSandbox");
        self.cri
            .stop_pod_sandbox(StopPodSandboxRequest { pod_sandbox_id: pod.clone() })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.what("StopPodSandbox")));
        let stopped =
            self.cri.pod_sandbox_status(PodSandboxStatusRequest { pod_sandbox_id: pod.clone(), verbose: false }).await.expect("PodSandboxStatus").into_inner();
        let state = stopped.status.map(|s| s.state).unwrap_or(-1);
        self.note("sandbox state after StopPodSandbox", PodSandboxState::try_from(state).map(|s| s.as_str_name()).unwrap_or("?"));
        assert_eq!(state, PodSandboxState::SandboxNotready as i32, "{}", self.what("StopPodSandbox: not ready"));
        self.step("RemovePodSandbox");
        self.cri
            .remove_pod_sandbox(RemovePodSandboxRequest { pod_sandbox_id: pod.clone() })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.what("RemovePodSandbox")));
        let left = self.cri.list_pod_sandbox(ListPodSandboxRequest { filter: None }).await.expect("ListPodSandbox").into_inner().items;
        assert!(left.iter().all(|p| p.id != pod), "{}", self.what("RemovePodSandbox: the pod is no longer listed"));
    }

    /// A long-running container with limits, a user, a read-only rootfs, capabilities, the
    /// runtime's default seccomp profile, masked and read-only paths: seen from inside through
    /// ExecSync and from the host in its cgroup, updated, stopped with a grace period.
    async fn main_container(&mut self, pod: &str, pod_config: &PodSandboxConfig) {
        let resources =
            LinuxContainerResources { cpu_period: 100_000, cpu_quota: 50_000, cpu_shares: 512, memory_limit_in_bytes: 64 << 20, ..Default::default() };
        let security = LinuxContainerSecurityContext {
            capabilities: Some(Capability { add_capabilities: vec!["NET_ADMIN".into()], drop_capabilities: vec!["CHOWN".into()], ..Default::default() }),
            run_as_user: Some(Int64Value { value: 1000 }),
            readonly_rootfs: true,
            // Paths this host's kernel has (it has no /proc/kcore or /proc/sysrq-trigger).
            masked_paths: vec!["/proc/keys".into(), "/proc/timer_list".into()],
            readonly_paths: vec!["/proc/sys".into(), "/proc/bus".into()],
            seccomp: Some(SecurityProfile { profile_type: security_profile::ProfileType::RuntimeDefault as i32, ..Default::default() }),
            ..Default::default()
        };
        // PID 1 of its own PID namespace without a handler: SIGTERM does nothing, so the stop
        // below must wait out its grace period and kill.
        let config = self.container_config("main", &["sh", "-c", "while :; do sleep 1; done"], resources, security);
        let id = self.create(pod, pod_config, config).await;
        let (created, _) = self.status(&id).await;
        self.note("main: state after CreateContainer", state_name(created.state));
        assert_eq!(created.state, ContainerState::ContainerCreated as i32, "{}", self.what("CreateContainer: CREATED"));
        self.start(&id).await;
        let (running, info) = self.status(&id).await;
        self.note("main: state after StartContainer", state_name(running.state));
        assert_eq!(running.state, ContainerState::ContainerRunning as i32, "{}", self.what("StartContainer: RUNNING"));
        let pid = info["pid"].as_u64().unwrap_or_else(|| panic!("{}: no pid in the verbose status: {info}", self.what("ContainerStatus"))) as u32;
        self.cgroups.push(cgroup_dir(pid, "memory"));
        self.cgroups.push(cgroup_dir(pid, "cpu"));

        self.step("ExecSync: output, exit codes, a timeout");
        let echo = self.exec_ok(&id, &["echo", "hello"]).await;
        self.note("exec echo", format!("{echo:?}"));
        assert_eq!(echo, (0, "hello".into(), String::new()), "{}", self.what("ExecSync echo"));
        let seven = self.exec_ok(&id, &["sh", "-c", "echo out; echo err >&2; exit 7"]).await;
        self.note("exec exit 7", format!("{seven:?}"));
        assert_eq!(seven, (7, "out".into(), "err".into()), "{}", self.what("ExecSync exit 7"));
        let started = Instant::now();
        let timed_out = self.exec(&id, &["sleep", "30"], 1).await;
        let took = started.elapsed();
        let outcome = match &timed_out {
            Ok(r) => format!("exit {}", r.exit_code),
            Err(e) => format!("{:?}: timeout exceeded {}", e.code(), e.message().contains("timeout 1s exceeded")),
        };
        self.note("exec timeout", outcome.clone());
        assert!(
            outcome.ends_with("timeout exceeded true") && took < Duration::from_secs(10),
            "{}: {timed_out:?} after {took:?}",
            self.what("ExecSync sleep 30 with timeout 1")
        );

        self.step("ExecSync: what the process sees");
        let user = self.exec_ok(&id, &["id", "-u"]).await;
        self.note("main: id -u", format!("{user:?}"));
        assert_eq!(user.1, "1000", "{}", self.what("run_as_user"));
        let status = self.exec_ok(&id, &["grep", "-E", "^(Seccomp|NoNewPrivs|CapBnd|CapEff):", "/proc/self/status"]).await;
        self.note("main: /proc/self/status", status.1.clone());
        let field = |name: &str| status.1.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string()).unwrap_or_default();
        assert_eq!(field("Seccomp:"), "2", "{}: {}", self.what("RuntimeDefault seccomp"), status.1);
        let bounding = u64::from_str_radix(&field("CapBnd:"), 16).unwrap_or_else(|_| panic!("{}: CapBnd in {}", self.handler, status.1));
        assert!(bounding & (1 << 12) != 0 && bounding & 1 == 0, "{}: NET_ADMIN added, CHOWN dropped: {bounding:x}", self.what("capabilities"));
        let write = self.exec_ok(&id, &["touch", "/probe"]).await;
        self.note("main: touch /probe", format!("{write:?}"));
        assert!(write.0 != 0 && write.2.contains("Read-only file system"), "{}: {write:?}", self.what("read-only rootfs"));
        // Masked: /dev/null mounted over each (timer_list, mode 0400, becomes readable and empty).
        let masked = self
            .exec_ok(&id, &["sh", "-c", "wc -c < /proc/timer_list; awk '$5 == \"/proc/keys\" || $5 == \"/proc/timer_list\" { print $5 }' /proc/self/mountinfo"])
            .await;
        self.note("main: masked paths", format!("{masked:?}"));
        assert_eq!(masked.1.split_whitespace().collect::<Vec<_>>(), ["0", "/proc/keys", "/proc/timer_list"], "{}: {masked:?}", self.what("masked paths"));
        let sys =
            self.exec_ok(&id, &["awk", "$5 == \"/proc/sys\" || $5 == \"/proc/bus\" { split($6, o, \",\"); print $5, o[1] }", "/proc/self/mountinfo"]).await;
        self.note("main: read-only paths", sys.1.clone());
        assert!(sys.1.contains("/proc/sys ro") && sys.1.contains("/proc/bus ro"), "{}: {sys:?}", self.what("read-only paths"));

        // The limits, as the host reads them.
        let (memory, quota, weight) = cgroup_values(pid);
        self.note("main: cgroup memory", memory.clone());
        self.note("main: cgroup cpu quota", quota.clone());
        self.note("main: cgroup cpu shares", weight);
        assert_eq!(memory, (64u64 << 20).to_string(), "{}", self.what("memory limit in the cgroup"));
        assert_eq!(quota, "50000 100000", "{}", self.what("CPU quota in the cgroup"));

        self.step("ContainerStats");
        let stats = self
            .cri
            .container_stats(ContainerStatsRequest { container_id: id.clone() })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.what("ContainerStats")))
            .into_inner()
            .stats;
        let stats = stats.unwrap_or_else(|| panic!("{}: no stats", self.what("ContainerStats")));
        let working_set = stats.memory.as_ref().and_then(|m| m.working_set_bytes.as_ref()).map(|v| v.value).unwrap_or(0);
        let cpu = stats.cpu.as_ref().and_then(|c| c.usage_core_nano_seconds.as_ref()).map(|v| v.value).unwrap_or(0);
        self.note("main: stats present", format!("memory {} cpu {}", working_set > 0, cpu > 0));
        assert!(working_set > 0 && cpu > 0, "{}: working set {working_set}, cpu {cpu}", self.what("ContainerStats"));

        self.step("UpdateContainerResources, checked in the cgroup");
        let update =
            LinuxContainerResources { cpu_period: 100_000, cpu_quota: 20_000, cpu_shares: 256, memory_limit_in_bytes: 128 << 20, ..Default::default() };
        self.cri
            .update_container_resources(UpdateContainerResourcesRequest { container_id: id.clone(), linux: Some(update), ..Default::default() })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.what("UpdateContainerResources")));
        let (memory, quota, weight) = cgroup_values(pid);
        self.note("main: cgroup memory after update", memory.clone());
        self.note("main: cgroup cpu quota after update", quota.clone());
        self.note("main: cgroup cpu shares after update", weight);
        assert_eq!(memory, (128u64 << 20).to_string(), "{}", self.what("memory limit after UpdateContainerResources"));
        assert_eq!(quota, "20000 100000", "{}", self.what("CPU quota after UpdateContainerResources"));

        self.step("ExecSync true, 20 times: the cost of a liveness probe");
        for _ in 0..20 {
            let started = Instant::now();
            let (code, _, _) = self.exec_ok(&id, &["true"]).await;
            self.exec_times.push(started.elapsed());
            assert_eq!(code, 0, "{}", self.what("ExecSync true"));
        }

        // The process ignores SIGTERM: killed when the grace period is over.
        self.step("StopContainer, grace period 2 s");
        let started = Instant::now();
        self.cri
            .stop_container(StopContainerRequest { container_id: id.clone(), timeout: 2 })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.what("StopContainer")));
        let took = started.elapsed();
        let stopped = self.wait_exited(&id, Duration::from_secs(10)).await;
        self.note("main: after StopContainer", format!("{} exit {} reason {}", state_name(stopped.state), stopped.exit_code, stopped.reason));
        assert_eq!(
            (stopped.state, stopped.exit_code),
            (ContainerState::ContainerExited as i32, 137),
            "{}",
            self.what("StopContainer: killed after the grace period")
        );
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(10),
            "{}: took {took:?}",
            self.what("StopContainer waits out the 2 s grace period")
        );
        self.remove(&id).await;
    }

    /// A container that exits by itself, and one the kernel kills for memory.
    async fn exiting_containers(&mut self, pod: &str, pod_config: &PodSandboxConfig) {
        let config = self.container_config("exits", &["sh", "-c", "exit 3"], LinuxContainerResources::default(), LinuxContainerSecurityContext::default());
        let id = self.create(pod, pod_config, config).await;
        self.start(&id).await;
        let exited = self.wait_exited(&id, Duration::from_secs(20)).await;
        self.note("exits: status", format!("{} exit {} reason {}", state_name(exited.state), exited.exit_code, exited.reason));
        assert_eq!(
            (exited.state, exited.exit_code, exited.reason.as_str()),
            (ContainerState::ContainerExited as i32, 3, "Error"),
            "{}",
            self.what("a container that exits 3")
        );
        self.remove(&id).await;

        // containerd reports OOMKilled when its shim reads the kill in the cgroup's memory
        // events. So the kill must come after the shim has begun watching (it does once start
        // returns: hence the sleep before), and the cgroup must outlive it a moment: under
        // SystemdCgroup, systemd removes the scope's cgroup as soon as it is empty, and then
        // the event is lost, for runc and skiff alike. So dd is a child, killed by the OOM
        // killer, and the shell exits with its status a second later. No swap: CRI sets
        // swap = limit.
        let limit = LinuxContainerResources { memory_limit_in_bytes: 16 << 20, ..Default::default() };
        let script = "sleep 3; dd if=/dev/zero of=/dev/null bs=64M count=1; status=$?; sleep 1; exit $status";
        let config = self.container_config("oom", &["sh", "-c", script], limit, LinuxContainerSecurityContext::default());
        let id = self.create(pod, pod_config, config).await;
        self.start(&id).await;
        if let Some(&pid) = self.pids.last() {
            self.cgroups.push(cgroup_dir(pid, "memory"));
        }
        let killed = self.wait_exited(&id, Duration::from_secs(20)).await;
        self.note("oom: status", format!("{} exit {} reason {}", state_name(killed.state), killed.exit_code, killed.reason));
        assert_eq!(
            (killed.state, killed.exit_code, killed.reason.as_str()),
            (ContainerState::ContainerExited as i32, 137, "OOMKilled"),
            "{}",
            self.what("an OOM-killed container")
        );
        self.remove(&id).await;
    }

    /// mountPropagation: Bidirectional, as a CSI node plugin uses it: a mount the container
    /// makes under the volume appears on the host. The host path is a shared mount, as the
    /// kubelet's pods directory is on a systemd host; containerd asks for rshared on the
    /// bind and on the rootfs.
    async fn bidirectional_volume(&mut self, pod: &str, pod_config: &PodSandboxConfig) {
        let host = self.setup.work.join(format!("bidirectional-{}", self.handler));
        std::fs::create_dir_all(host.join("sub")).expect("make the volume's directory");
        let host_str = host.to_str().expect("a UTF-8 work path").to_string();
        let host_mount = |args: &[&str]| assert!(std::process::Command::new("mount").args(args).status().is_ok_and(|s| s.success()), "mount {args:?}");
        host_mount(&["--bind", &host_str, &host_str]);
        host_mount(&["--make-shared", &host_str]);
        let security = LinuxContainerSecurityContext {
            capabilities: Some(Capability { add_capabilities: vec!["SYS_ADMIN".into()], ..Default::default() }),
            ..Default::default()
        };
        let mut config = self.container_config(
            "bidirectional",
            &["sh", "-c", "mount -t tmpfs cri-made-inside /vol/sub && sleep 1000"],
            LinuxContainerResources::default(),
            security,
        );
        config.mounts = vec![Mount {
            container_path: "/vol".into(),
            host_path: host_str.clone(),
            propagation: MountPropagation::PropagationBidirectional as i32,
            ..Default::default()
        }];
        let id = self.create(pod, pod_config, config).await;
        self.start(&id).await;
        let sub = host.join("sub");
        let deadline = Instant::now() + Duration::from_secs(10);
        let seen = loop {
            let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
            let seen = mountinfo.lines().any(|l| l.split(' ').nth(4) == sub.to_str() && l.contains(" cri-made-inside "));
            if seen || Instant::now() > deadline {
                break seen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        self.note("bidirectional: the mount made inside is seen on the host", seen.to_string());
        self.remove(&id).await;
        let _ = std::process::Command::new("umount").args(["-R", &host_str]).status();
        assert!(seen, "{}", self.what("a tmpfs mounted under a Bidirectional volume appears on the host"));
    }

    /// Nothing of the pod may be left: runtime state, cgroups, mounts, processes.
    async fn nothing_left(&mut self) {
        self.step("nothing left");
        let state = self.root.join("k8s.io");
        let entries: Vec<String> =
            std::fs::read_dir(&state).map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
        assert!(entries.is_empty(), "{}: runtime state left in {}: {entries:?}", self.handler, state.display());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let cgroups: Vec<&PathBuf> = self.cgroups.iter().filter(|d| d.exists()).collect();
            let pids: Vec<u32> = self.pids.iter().copied().filter(|p| Path::new(&format!("/proc/{p}")).exists()).collect();
            let mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
                .unwrap_or_default()
                .lines()
                .filter(|l| self.ids.iter().any(|id| l.contains(id.as_str())))
                .map(String::from)
                .collect();
            let shims: Vec<String> = processes_naming(&self.ids);
            if cgroups.is_empty() && pids.is_empty() && mounts.is_empty() && shims.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "{}: left behind: cgroups {cgroups:?}, processes {pids:?}, mounts {mounts:?}, shims {shims:?}", self.handler);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A WebAssembly pod: what each module did, seen through the CRI (states, exit codes,
/// reasons, logs) and on the host (a volume).
impl Run<'_> {
    async fn wasm_pod(&mut self, image: &str) {
        let annotations = [("run.oci.handler".to_string(), "wasm".to_string())].into_iter().collect();
        let pod_config = self.pod_config_with(annotations);
        // The sandbox's pause program is native: skiff runs it as such despite the annotation.
        let pod = self.run_pod(&pod_config).await;
        let log_dir = PathBuf::from(&pod_config.log_directory);
        let volume = self.setup.work.join("wasm-volume");
        std::fs::create_dir_all(&volume).expect("make the wasm volume");
        let module = |run: &Self, name: &str, args: &[&str], limit: i64| {
            let mut config =
                run.container_config(name, args, LinuxContainerResources { memory_limit_in_bytes: limit, ..Default::default() }, Default::default());
            config.image = Some(ImageSpec { image: image.to_string(), ..Default::default() });
            config
        };
        let log = |name: &str| std::fs::read_to_string(log_dir.join(format!("{name}.log"))).unwrap_or_default();
        // The lines of a CRI log (`TIME STREAM F TEXT`) on one stream.
        let lines = |text: &str, stream: &str| -> Vec<String> {
            text.lines().filter_map(|l| l.splitn(4, ' ').collect::<Vec<_>>().get(1..).filter(|f| f[0] == stream).map(|f| f[2].to_string())).collect()
        };

        let cases: [(&str, Vec<&str>, i64, i32, &str); 5] = [
            ("hello", vec!["/hello.wasm"], 0, 0, "Completed"),
            ("args", vec!["/args_env.wasm", "one", "two words"], 0, 0, "Completed"),
            ("files", vec!["/files.wasm"], 0, 0, "Completed"),
            ("exit3", vec!["/exit3.wasm"], 0, 3, "Error"),
            ("trap", vec!["/trap.wasm"], 0, 134, "Error"),
        ];
        for (name, args, limit, code, reason) in cases {
            let mut config = module(self, name, &args, limit);
            config.envs = vec![KeyValue { key: "GREETING".into(), value: "hello wasm".into() }];
            config.mounts = vec![Mount { container_path: "/vol".into(), host_path: volume.display().to_string(), ..Default::default() }];
            let id = self.create(&pod, &pod_config, config).await;
            self.start(&id).await;
            let exited = self.wait_exited(&id, Duration::from_secs(20)).await;
            assert_eq!(
                (exited.state, exited.exit_code, exited.reason.as_str()),
                (ContainerState::ContainerExited as i32, code, reason),
                "{}: {}",
                self.what(&format!("module {name}")),
                log(name)
            );
            self.remove(&id).await;
        }
        assert_eq!(lines(&log("hello"), "stdout"), ["hello from wasm"], "{}", self.what("hello's log"));
        let args = lines(&log("args"), "stdout");
        let (argv, env) = args.split_at(args.iter().position(|l| l == "--").unwrap_or_else(|| panic!("{}: {args:?}", self.what("args' log"))));
        assert_eq!(argv, ["/args_env.wasm", "one", "two words"], "{}", self.what("the module's WASI args"));
        assert!(env.iter().any(|e| e == "GREETING=hello wasm"), "{}: {env:?}", self.what("the module's environment"));
        assert_eq!(lines(&log("files"), "stdout"), ["from the image"], "{}", self.what("a file of the image read"));
        assert_eq!(read_trimmed(&volume.join("out.txt")), "from the image", "{}", self.what("the volume written"));
        assert!(lines(&log("trap"), "stderr").iter().any(|l| l.contains("unreachable")), "{}: {}", self.what("the trap's message"), log("trap"));

        // Past its memory limit, after 3 s (the shim watches by then): OOM-killed.
        let config = module(self, "oom", &["/grow.wasm", "--after-3s"], 32 << 20);
        let id = self.create(&pod, &pod_config, config).await;
        self.start(&id).await;
        if let Some(&pid) = self.pids.last() {
            self.cgroups.push(cgroup_dir(pid, "memory"));
        }
        let killed = self.wait_exited(&id, Duration::from_secs(30)).await;
        assert_eq!(
            (killed.state, killed.exit_code, killed.reason.as_str()),
            (ContainerState::ContainerExited as i32, 137, "OOMKilled"),
            "{}",
            self.what("a module past its memory limit")
        );
        self.remove(&id).await;

        // A module that sleeps, and a module exec'd beside it.
        let id = self.create(&pod, &pod_config, module(self, "sleeper", &["/sleep.wasm"], 0)).await;
        self.start(&id).await;
        let (running, _) = self.status(&id).await;
        assert_eq!(running.state, ContainerState::ContainerRunning as i32, "{}", self.what("a sleeping module runs"));
        let hello = self.exec_ok(&id, &["/hello.wasm"]).await;
        assert_eq!(hello, (0, "hello from wasm".into(), String::new()), "{}", self.what("ExecSync of a module"));
        self.step("StopContainer sleeper");
        self.cri
            .stop_container(StopContainerRequest { container_id: id.clone(), timeout: 1 })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.what("StopContainer")));
        self.remove(&id).await;
        self.stop_and_remove_pod(&pod).await;
    }
}

/// The command lines of the processes that name one of `ids` (the shims do: `-id ID`).
fn processes_naming(ids: &[String]) -> Vec<String> {
    let own = std::process::id().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()) && e.file_name().to_string_lossy() != own)
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|cmdline| ids.iter().any(|id| cmdline.contains(id.as_str())))
        .collect()
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::test(flavor = "current_thread")]
async fn cri_handlers_behave_as_runc() {
    let setup = setup();
    let mut cri = connect(&setup.socket).await;
    let version = cri.version(VersionRequest { version: "v1".into() }).await.expect("Version").into_inner();
    assert_eq!((version.runtime_name.as_str(), version.runtime_api_version.as_str()), ("containerd", "v1"), "Version: {version:?}");

    let mut records = Vec::new();
    for (handler, root) in setup.handlers.iter().zip(&setup.roots) {
        let mut run = Run {
            cri: cri.clone(),
            setup: &setup,
            handler: handler.clone(),
            root: root.clone(),
            record: Record::new(),
            ids: Vec::new(),
            cgroups: Vec::new(),
            pids: Vec::new(),
            exec_times: Vec::new(),
        };
        run.pod().await;
        run.nothing_left().await;
        let ms = median(&mut run.exec_times).as_secs_f64() * 1000.0;
        println!("timing: ExecSync true through CRI, handler {handler}: median {ms:.2} ms of {} runs", run.exec_times.len());
        records.push((handler.clone(), run.record));
    }

    // What the handler under test showed is what runc showed.
    let (under_test, reference) = (&records[0], &records[1]);
    let differences: Vec<String> = under_test
        .1
        .iter()
        .filter(|(key, value)| reference.1.get(*key) != Some(value))
        .map(|(key, value)| {
            format!("  {key}:\n    {}: {value}\n    {}: {}", under_test.0, reference.0, reference.1.get(key).map(String::as_str).unwrap_or("(not seen)"))
        })
        .collect();
    assert!(differences.is_empty(), "{} and {} differ:\n{}", under_test.0, reference.0, differences.join("\n"));
    println!("{} and {} agree on {} observations", under_test.0, reference.0, under_test.1.len());
}

/// WebAssembly pods through containerd's CRI plugin: a RuntimeClass handler of skiff whose
/// pods carry `run.oci.handler: wasm` (containerd's `pod_annotations` pass it on). runc has no
/// wasm handler: there is nothing to compare with, only expectations.
#[tokio::test(flavor = "current_thread")]
async fn wasm_pods_run_modules() {
    let setup = setup();
    let var =
        |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run this test through integration/engines/cri.sh (make test-cri)"));
    let (handler, root, image) = (var("CRI_WASM_HANDLER"), PathBuf::from(var("CRI_WASM_ROOT")), var("CRI_WASM_IMAGE"));
    let cri = connect(&setup.socket).await;
    let mut run =
        Run { cri, setup: &setup, handler, root, record: Record::new(), ids: Vec::new(), cgroups: Vec::new(), pids: Vec::new(), exec_times: Vec::new() };
    run.wasm_pod(&image).await;
    run.nothing_left().await;
    println!("wasm: handler {}: 8 modules through the CRI, as expected", run.handler);
}
