//! An OCI runtime Spec turned into the plan init follows. Everything that can
//! be worked out before clone is worked out here, in the parent, where errors
//! are easy to report and the work can be tested without root.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use mydocker_fs::dev::{default_devices, DeviceNode};
use mydocker_fs::rootfs::{MountEntry, RootSource, RootfsPlan};
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::CoreError;

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapsPlan {
    pub bounding: Vec<caps::Capability>,
    pub effective: Vec<caps::Capability>,
    pub permitted: Vec<caps::Capability>,
    pub inheritable: Vec<caps::Capability>,
    pub ambient: Vec<caps::Capability>,
}

#[derive(Debug, Clone)]
pub struct InitPlan {
    /// CLONE_NEW* flags of the namespaces to create.
    pub clone_flags: libc::c_int,
    pub rootfs: RootfsPlan,
    pub hostname: Option<String>,
    pub args: Vec<CString>,
    pub env: Vec<CString>,
    /// The PATH init searches for the command: the container's own.
    pub search_path: String,
    pub cwd: PathBuf,
    pub terminal: bool,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub caps: Option<CapsPlan>,
    pub no_new_privileges: bool,
}

fn invalid(msg: impl Into<String>) -> CoreError {
    CoreError::Invalid(format!("invalid runtime spec: {}", msg.into()))
}

fn cstring(s: &str, what: &str) -> Result<CString, CoreError> {
    CString::new(s).map_err(|_| invalid(format!("{what} {s:?} contains a NUL byte")))
}

impl InitPlan {
    /// `bundle` is the folder relative paths in the spec are taken from.
    pub fn from_spec(spec: &Spec, bundle: &Path) -> Result<InitPlan, CoreError> {
        let process = spec.process().as_ref().ok_or_else(|| invalid("no process"))?;
        let args = process.args().as_ref().filter(|a| !a.is_empty()).ok_or_else(|| invalid("process.args is empty"))?;
        let root = spec.root().as_ref().ok_or_else(|| invalid("no root"))?;
        let root_path = if root.path().is_absolute() { root.path().clone() } else { bundle.join(root.path()) };

        let linux = spec.linux().as_ref();
        let mut clone_flags = 0;
        for ns in linux.and_then(|l| l.namespaces().as_ref()).into_iter().flatten() {
            if ns.path().is_some() {
                return Err(invalid(format!("joining an existing {:?} namespace is not supported yet", ns.typ())));
            }
            clone_flags |= match ns.typ() {
                LinuxNamespaceType::Mount => libc::CLONE_NEWNS,
                LinuxNamespaceType::Uts => libc::CLONE_NEWUTS,
                LinuxNamespaceType::Ipc => libc::CLONE_NEWIPC,
                LinuxNamespaceType::Pid => libc::CLONE_NEWPID,
                LinuxNamespaceType::Network => libc::CLONE_NEWNET,
                LinuxNamespaceType::Cgroup => libc::CLONE_NEWCGROUP,
                LinuxNamespaceType::User => return Err(invalid("user namespaces are not supported yet")),
                LinuxNamespaceType::Time => libc::CLONE_NEWTIME,
            };
        }
        if clone_flags & libc::CLONE_NEWNS == 0 {
            return Err(invalid("a mount namespace is required"));
        }

        // A mount of "/" (type overlay) describes the root itself: the engine
        // says so when the root is an overlay it has not mounted on the host.
        let mut source = RootSource::Folder;
        let mut mounts = Vec::new();
        for m in spec.mounts().as_ref().into_iter().flatten() {
            let fstype = m.typ().clone().unwrap_or_default();
            let options = m.options().clone().unwrap_or_default();
            if m.destination() == Path::new("/") {
                if fstype != "overlay" {
                    return Err(invalid(format!("a mount at / must be an overlay, not {fstype:?}")));
                }
                source = RootSource::Overlay { data: options.join(",") };
                continue;
            }
            if !m.destination().is_absolute() {
                return Err(invalid(format!("mount destination {} is not absolute", m.destination().display())));
            }
            mounts.push(MountEntry {
                destination: m.destination().clone(),
                fstype,
                source: m.source().clone().unwrap_or_default(),
                options,
            });
        }

        let mut devices = default_devices();
        for d in linux.and_then(|l| l.devices().as_ref()).into_iter().flatten() {
            let node = DeviceNode {
                path: d.path().clone(),
                block: matches!(d.typ(), oci_spec::runtime::LinuxDeviceType::B),
                major: d.major() as u64,
                minor: d.minor() as u64,
                mode: d.file_mode().unwrap_or(0o666),
                uid: d.uid().unwrap_or(0),
                gid: d.gid().unwrap_or(0),
            };
            devices.retain(|x| x.path != node.path);
            devices.push(node);
        }

        let paths = |v: Option<&Vec<String>>| v.into_iter().flatten().map(PathBuf::from).collect::<Vec<_>>();
        let rootfs = RootfsPlan {
            root: root_path,
            source,
            readonly: root.readonly().unwrap_or(false),
            mounts,
            devices,
            masked_paths: paths(linux.and_then(|l| l.masked_paths().as_ref())),
            readonly_paths: paths(linux.and_then(|l| l.readonly_paths().as_ref())),
        };

        let env_strings = process.env().clone().unwrap_or_default();
        let search_path = env_strings
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH)
            .to_string();
        let env = env_strings.iter().map(|e| cstring(e, "environment variable")).collect::<Result<_, _>>()?;
        let args = args.iter().map(|a| cstring(a, "argument")).collect::<Result<_, _>>()?;
        let cwd = process.cwd().clone();
        if !cwd.is_absolute() {
            return Err(invalid(format!("the working directory {} is not absolute", cwd.display())));
        }

        let user = process.user();
        let caps = process.capabilities().as_ref().map(|c| -> Result<CapsPlan, CoreError> {
            let conv = |set: &Option<oci_spec::runtime::Capabilities>| -> Result<Vec<caps::Capability>, CoreError> {
                let mut out: Vec<caps::Capability> = Vec::new();
                for cap in set.iter().flatten() {
                    let name = serde_json::to_value(cap).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
                    // A capability this host's kernel or caps crate does not know is skipped, as runc does.
                    if let Ok(c) = caps::Capability::from_str(&name) {
                        out.push(c);
                    }
                }
                out.sort_by_key(|c| c.index());
                Ok(out)
            };
            Ok(CapsPlan {
                bounding: conv(c.bounding())?,
                effective: conv(c.effective())?,
                permitted: conv(c.permitted())?,
                inheritable: conv(c.inheritable())?,
                ambient: conv(c.ambient())?,
            })
        });

        Ok(InitPlan {
            clone_flags,
            rootfs,
            hostname: spec.hostname().clone(),
            args,
            env,
            search_path,
            cwd,
            terminal: process.terminal().unwrap_or(false),
            uid: user.uid(),
            gid: user.gid(),
            additional_gids: user.additional_gids().clone().unwrap_or_default(),
            caps: caps.transpose()?,
            no_new_privileges: process.no_new_privileges().unwrap_or(false),
        })
    }
}
