//! `Shutdown`: a cloneable one-shot signal (trigger once, wait anywhere) used for graceful
//! shutdown of controllers and informers and for leader-election fencing.

use tokio::sync::watch;

/// A cloneable signal: [`Shutdown::trigger`] once, [`Shutdown::wait`] in any number of tasks.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: std::sync::Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Self {
        Shutdown {
            tx: std::sync::Arc::new(watch::channel(false).0),
        }
    }

    /// Fires the signal (idempotent).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether the signal has fired.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Completes once the signal has fired.
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|fired| *fired).await;
    }

    /// A signal that fires when this one does (a child can be triggered on its own).
    pub fn child(&self) -> Shutdown {
        let child = Shutdown::new();
        let parent = self.clone();
        let c = child.clone();
        if self.is_triggered() {
            child.trigger();
        } else {
            tokio::spawn(async move {
                tokio::select! {
                    () = parent.wait() => c.trigger(),
                    () = c.wait() => {}
                }
            });
        }
        child
    }
}
