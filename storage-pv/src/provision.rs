//! Dynamic provisioning: the [`Provisioner`] trait and [`LocalPathProvisioner`], a real
//! provisioner that makes one directory per volume.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kybern_core::Quantity;
use kybern_core::api::core::v1::{
    LocalVolumeSource, Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    PersistentVolume, PersistentVolumeClaim, PersistentVolumeSpec, VolumeNodeAffinity,
};
use kybern_core::api::storage::v1::StorageClass;

use crate::annotations::{FILESYSTEM, HOSTNAME_LABEL};
use crate::matching::{claim_key, requested_storage};

/// Why a volume could not be provisioned, grown or deleted.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// A class parameter this provisioner does not understand, or a bad value.
    #[error("invalid option {key:?} for volume plugin {provisioner}: {reason}")]
    InvalidParameter {
        /// The provisioner.
        provisioner: String,
        /// The parameter.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The claim asks for an access mode the provisioner cannot offer.
    #[error("access mode {mode} is not supported by {provisioner}; supported: {supported}")]
    UnsupportedAccessMode {
        /// The provisioner.
        provisioner: String,
        /// The requested mode.
        mode: String,
        /// What it supports.
        supported: String,
    },
    /// The claim asks for a volume mode the provisioner cannot offer.
    #[error("volumeMode {mode} is not supported by {provisioner}; only Filesystem is")]
    UnsupportedVolumeMode {
        /// The provisioner.
        provisioner: String,
        /// The requested mode.
        mode: String,
    },
    /// Not enough room left.
    #[error(
        "insufficient capacity on {root}: requested {requested}, {used} of {size} already provisioned"
    )]
    QuotaExceeded {
        /// The root directory.
        root: String,
        /// The requested size.
        requested: Quantity,
        /// Already provisioned.
        used: Quantity,
        /// The configured size of the root.
        size: Quantity,
    },
    /// The provisioner needs a node and none was selected or configured.
    #[error(
        "{provisioner} needs a node: use volumeBindingMode WaitForFirstConsumer or configure a default node"
    )]
    NoNode {
        /// The provisioner.
        provisioner: String,
    },
    /// The claim has no uid, so no volume name can be derived.
    #[error("claim {0} has no uid")]
    MissingUid(String),
    /// The volume is not one of this provisioner's.
    #[error("volume {volume:?} was not provisioned by {provisioner}")]
    NotOurs {
        /// The volume.
        volume: String,
        /// The provisioner.
        provisioner: String,
    },
    /// The provisioner cannot do this (e.g. grow volumes).
    #[error("{0}")]
    Unsupported(String),
    /// A filesystem operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Something that creates and deletes storage for volumes.
pub trait Provisioner: Send + Sync {
    /// The name classes use in `provisioner` (and volumes carry in
    /// `pv.kubernetes.io/provisioned-by`).
    fn name(&self) -> &str;

    /// Creates storage for `claim` and returns the volume describing it (named
    /// [`volume_name_for_claim`]). The controller adds the binding, class, reclaim policy,
    /// mount options and annotations.
    ///
    /// # Errors
    /// Why the volume cannot be provisioned; the claim stays Pending with a
    /// `ProvisioningFailed` event carrying the message.
    fn provision(
        &self,
        claim: &PersistentVolumeClaim,
        class: &StorageClass,
        selected_node: Option<&Node>,
    ) -> Result<PersistentVolume, ProvisionError>;

    /// Deletes the storage of a volume this provisioner created. Deleting storage that is
    /// already gone succeeds.
    ///
    /// # Errors
    /// Why it could not be deleted.
    fn delete(&self, volume: &PersistentVolume) -> Result<(), ProvisionError>;

    /// Grows a volume's storage to `size`; returns the new capacity.
    ///
    /// # Errors
    /// By default: [`ProvisionError::Unsupported`].
    fn expand(
        &self,
        volume: &PersistentVolume,
        size: Quantity,
    ) -> Result<Quantity, ProvisionError> {
        let _ = (volume, size);
        Err(ProvisionError::Unsupported(format!(
            "{} does not support volume expansion",
            self.name()
        )))
    }
}

/// The name of the volume provisioned for a claim: `pvc-<claim uid>`, as upstream.
pub fn volume_name_for_claim(claim: &PersistentVolumeClaim) -> String {
    format!("pvc-{}", claim.metadata.uid.as_deref().unwrap_or(""))
}

/// The default name of [`LocalPathProvisioner`].
pub const LOCAL_PATH_PROVISIONER: &str = "kybern.io/local-path";

/// Directory (under the root) recording each volume's provisioned capacity.
const LEDGER_DIR: &str = ".kybern-capacity";

/// A real provisioner for node-local storage: each volume is the directory
/// `<root>/<volume name>`, pinned to its node by node affinity
/// (`kubernetes.io/hostname In [node]`).
///
/// Capacity is a quota: the sizes of all volumes provisioned under the root (recorded in
/// `<root>/.kybern-capacity/<volume name>`, so the count survives restarts) may not exceed
/// the configured size. Only `ReadWriteOnce`/`ReadWriteOncePod` and Filesystem volumes are
/// offered. Class parameters: `directoryMode` (octal permission bits of the volume
/// directory, e.g. `"0770"`; Unix only); anything else is rejected.
#[derive(Debug)]
pub struct LocalPathProvisioner {
    name: String,
    root: PathBuf,
    size: Quantity,
    default_node: Option<String>,
    lock: Mutex<()>,
}

impl LocalPathProvisioner {
    /// A provisioner named [`LOCAL_PATH_PROVISIONER`] making volumes under `root` (created
    /// if missing), `size` in total.
    pub fn new(root: impl Into<PathBuf>, size: Quantity) -> Self {
        LocalPathProvisioner {
            name: LOCAL_PATH_PROVISIONER.to_owned(),
            root: root.into(),
            size,
            default_node: None,
            lock: Mutex::new(()),
        }
    }

    /// Uses another provisioner name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The node volumes go to when no node was selected (Immediate binding).
    pub fn with_default_node(mut self, node: impl Into<String>) -> Self {
        self.default_node = Some(node.into());
        self
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a volume's data lives.
    pub fn volume_path(&self, volume_name: &str) -> PathBuf {
        self.root.join(volume_name)
    }

    fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ProvisionError {
        let path = path.display().to_string();
        move |source| ProvisionError::Io { op, path, source }
    }

    /// The capacity provisioned so far, per the ledger (excluding `except`).
    pub fn used(&self) -> Result<Quantity, ProvisionError> {
        self.used_except(None)
    }

    fn used_except(&self, except: Option<&str>) -> Result<Quantity, ProvisionError> {
        let dir = self.root.join(LEDGER_DIR);
        let mut total = Quantity::default();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(total),
            Err(e) => return Err(Self::io("reading", &dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(Self::io("reading", &dir))?;
            if except.is_some_and(|x| entry.file_name().to_str() == Some(x)) {
                continue;
            }
            let path = entry.path();
            let text = std::fs::read_to_string(&path).map_err(Self::io("reading", &path))?;
            let q = Quantity::parse(text.trim()).map_err(|e| ProvisionError::Io {
                op: "parsing",
                path: path.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
            })?;
            total = total.checked_add(&q).unwrap_or(total);
        }
        Ok(total)
    }

    fn check_quota(&self, requested: Quantity, except: Option<&str>) -> Result<(), ProvisionError> {
        let used = self.used_except(except)?;
        let after = used.checked_add(&requested);
        if after.is_none_or(|a| a > self.size) {
            return Err(ProvisionError::QuotaExceeded {
                root: self.root.display().to_string(),
                requested,
                used,
                size: self.size,
            });
        }
        Ok(())
    }

    fn record(&self, volume_name: &str, size: Quantity) -> Result<(), ProvisionError> {
        let dir = self.root.join(LEDGER_DIR);
        std::fs::create_dir_all(&dir).map_err(Self::io("creating", &dir))?;
        let path = dir.join(volume_name);
        std::fs::write(&path, size.to_string()).map_err(Self::io("writing", &path))
    }

    fn directory_mode(&self, class: &StorageClass) -> Result<Option<u32>, ProvisionError> {
        let mut mode = None;
        for (key, value) in &class.parameters {
            match key.as_str() {
                "directoryMode" => {
                    let bits = u32::from_str_radix(value.trim_start_matches("0o"), 8)
                        .ok()
                        .filter(|b| *b <= 0o7777)
                        .ok_or_else(|| ProvisionError::InvalidParameter {
                            provisioner: self.name.clone(),
                            key: key.clone(),
                            reason: format!("{value:?} is not an octal permission mode"),
                        })?;
                    mode = Some(bits);
                }
                _ => {
                    return Err(ProvisionError::InvalidParameter {
                        provisioner: self.name.clone(),
                        key: key.clone(),
                        reason: "unknown parameter; supported: directoryMode".into(),
                    });
                }
            }
        }
        Ok(mode)
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

impl Provisioner for LocalPathProvisioner {
    fn name(&self) -> &str {
        &self.name
    }

    fn provision(
        &self,
        claim: &PersistentVolumeClaim,
        class: &StorageClass,
        selected_node: Option<&Node>,
    ) -> Result<PersistentVolume, ProvisionError> {
        if claim.metadata.uid.as_deref().unwrap_or("").is_empty() {
            return Err(ProvisionError::MissingUid(claim_key(claim)));
        }
        let spec = claim.spec.clone().unwrap_or_default();
        for mode in &spec.access_modes {
            if mode != "ReadWriteOnce" && mode != "ReadWriteOncePod" {
                return Err(ProvisionError::UnsupportedAccessMode {
                    provisioner: self.name.clone(),
                    mode: mode.clone(),
                    supported: "ReadWriteOnce, ReadWriteOncePod".into(),
                });
            }
        }
        if let Some(mode) = spec.volume_mode.as_deref()
            && mode != FILESYSTEM
        {
            return Err(ProvisionError::UnsupportedVolumeMode {
                provisioner: self.name.clone(),
                mode: mode.to_owned(),
            });
        }
        let dir_mode = self.directory_mode(class)?;
        let hostname = match selected_node {
            Some(node) => node
                .metadata
                .labels
                .get(HOSTNAME_LABEL)
                .cloned()
                .unwrap_or_else(|| node.metadata.name.clone().unwrap_or_default()),
            None => match &self.default_node {
                Some(n) => n.clone(),
                None => {
                    return Err(ProvisionError::NoNode {
                        provisioner: self.name.clone(),
                    });
                }
            },
        };
        let requested = requested_storage(claim);
        let name = volume_name_for_claim(claim);
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.check_quota(requested, Some(&name))?;
        let path = self.volume_path(&name);
        std::fs::create_dir_all(&path).map_err(Self::io("creating", &path))?;
        if let Some(bits) = dir_mode {
            set_mode(&path, bits).map_err(Self::io("setting permissions of", &path))?;
        }
        self.record(&name, requested)?;
        let mut pv = PersistentVolume::default();
        pv.metadata.name = Some(name);
        pv.spec = Some(PersistentVolumeSpec {
            access_modes: spec.access_modes.clone(),
            capacity: [("storage".to_owned(), requested)].into_iter().collect(),
            local: Some(LocalVolumeSource {
                path: path.display().to_string(),
                fs_type: None,
            }),
            volume_mode: Some(FILESYSTEM.to_owned()),
            node_affinity: Some(VolumeNodeAffinity {
                required: Some(NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: vec![NodeSelectorRequirement {
                            key: HOSTNAME_LABEL.to_owned(),
                            operator: "In".to_owned(),
                            values: vec![hostname],
                        }],
                        match_fields: Vec::new(),
                    }],
                }),
            }),
            ..PersistentVolumeSpec::default()
        });
        Ok(pv)
    }

    fn delete(&self, volume: &PersistentVolume) -> Result<(), ProvisionError> {
        let name = volume.metadata.name.clone().unwrap_or_default();
        let path = self.volume_path(&name);
        let ours = volume
            .spec
            .as_ref()
            .and_then(|s| s.local.as_ref())
            .is_some_and(|l| Path::new(&l.path) == path);
        if name.is_empty() || !ours {
            return Err(ProvisionError::NotOurs {
                volume: name,
                provisioner: self.name.clone(),
            });
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Self::io("removing", &path)(e)),
        }
        let ledger = self.root.join(LEDGER_DIR).join(&name);
        match std::fs::remove_file(&ledger) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Self::io("removing", &ledger)(e)),
        }
    }

    fn expand(
        &self,
        volume: &PersistentVolume,
        size: Quantity,
    ) -> Result<Quantity, ProvisionError> {
        let name = volume.metadata.name.clone().unwrap_or_default();
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.check_quota(size, Some(&name))?;
        self.record(&name, size)?;
        Ok(size)
    }
}
