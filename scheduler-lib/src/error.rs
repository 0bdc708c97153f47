//! The crate's error type.

/// Errors of the scheduler.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A profile is misconfigured.
    #[error("profile {profile:?}: {message}")]
    InvalidProfile {
        /// The scheduler name of the profile.
        profile: String,
        /// What is wrong.
        message: String,
    },
    /// Two profiles serve the same scheduler name, or none is given.
    #[error("invalid profiles: {0}")]
    InvalidProfiles(String),
    /// A pod was assumed twice, or assumed while bound.
    #[error("pod {pod} is already in the scheduler cache")]
    PodAlreadyInCache {
        /// `namespace/name`.
        pod: String,
    },
    /// Plugin arguments are invalid.
    #[error("invalid arguments for plugin {plugin}: {message}")]
    InvalidPluginArgs {
        /// The plugin name.
        plugin: String,
        /// What is wrong.
        message: String,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] kybern_reconciler::StoreError),
}
