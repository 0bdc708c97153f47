//! `watcher`: a never-ending list+watch stream over an [`Api<K>`] — lists (paginated), watches
//! from the list's revision, relists when the watch expires (410), and backs off on errors
//! instead of ending (kube-runtime's `watcher`).
//!
//! With [`InitialListStrategy::StreamingList`] the initial state comes from one watch instead
//! of a list (upstream's streaming lists: `sendInitialEvents`): its ADDED events up to the
//! initial-events-end bookmark are the list, and the same watch goes on with the changes.
//!
//! The stream yields [`Event::Init`], one [`Event::InitApply`] per listed object and
//! [`Event::InitDone`] for each (re)list, then [`Event::Apply`]/[`Event::Delete`] per change.
//! Errors are yielded as `Err` items for logging; the stream goes on after them: an
//! [`StoreError::Expired`] relists at once, any other error retries after an exponential
//! backoff (`Config::initial_backoff` doubling to `Config::max_backoff`, reset by progress).

use std::collections::VecDeque;
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt as _};

use super::Object;
use crate::api::{Api, ListParams, WatchParams};
use crate::store::{StoreError, WatchEvent};

/// One step of the watcher's view of the world.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<K> {
    /// A (re)list starts: the objects that follow replace everything known before.
    Init,
    /// An object of the current list.
    InitApply(K),
    /// The list is complete: objects not re-listed since [`Event::Init`] are gone.
    InitDone,
    /// An object was created or changed.
    Apply(K),
    /// An object was deleted (its last state).
    Delete(K),
}

/// What the watcher watches and how it retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Label selector.
    pub label_selector: Option<String>,
    /// Field selector.
    pub field_selector: Option<String>,
    /// Page size of the initial list (`None`: one page).
    pub page_size: Option<u64>,
    /// Ask for bookmarks (keeps the resume revision fresh). A streaming list always asks.
    pub bookmarks: bool,
    /// How the initial state (and every relist) is read.
    pub initial_list_strategy: InitialListStrategy,
    /// First retry delay after an error.
    pub initial_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            label_selector: None,
            field_selector: None,
            page_size: Some(500),
            bookmarks: true,
            initial_list_strategy: InitialListStrategy::ListWatch,
            initial_backoff: Duration::from_millis(800),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl Config {
    /// Sets the label selector.
    pub fn labels(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.to_owned());
        self
    }

    /// Sets the field selector.
    pub fn fields(mut self, selector: &str) -> Self {
        self.field_selector = Some(selector.to_owned());
        self
    }

    /// Reads the initial state from a streaming list instead of a paginated list.
    pub fn streaming_lists(mut self) -> Self {
        self.initial_list_strategy = InitialListStrategy::StreamingList;
        self
    }
}

/// How a watcher reads the initial state (kube-runtime's `InitialListStrategy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InitialListStrategy {
    /// A paginated list ([`Config::page_size`]), then a watch from its revision.
    #[default]
    ListWatch,
    /// One watch with `sendInitialEvents`: the initial objects as ADDED events, then the
    /// initial-events-end bookmark, then changes; no list, so no full page in memory at once.
    StreamingList,
}

/// Why a watcher step failed (the stream continues after it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WatcherError {
    /// Listing failed.
    #[error("watcher: initial list failed: {0}")]
    List(#[source] StoreError),
    /// Starting the watch failed.
    #[error("watcher: starting the watch failed: {0}")]
    WatchStart(#[source] StoreError),
    /// The running watch ended with an error (Expired means a relist follows).
    #[error("watcher: watch failed: {0}")]
    Watch(#[source] StoreError),
}

enum Phase<K> {
    /// Nothing known: (re)list from scratch.
    Empty,
    /// Listing: the next page's continue token and the list revision.
    Listing {
        continue_token: String,
        revision: String,
    },
    /// Listed at a revision; the watch is not open yet.
    Listed { revision: String },
    /// A streaming list: the initial events until the initial-events-end bookmark.
    Streaming {
        stream: BoxStream<'static, Result<WatchEvent<K>, StoreError>>,
    },
    /// Watching from a revision.
    Watching {
        revision: String,
        stream: BoxStream<'static, Result<WatchEvent<K>, StoreError>>,
    },
}

struct State<K> {
    api: Api<K>,
    config: Config,
    phase: Phase<K>,
    pending: VecDeque<Result<Event<K>, WatcherError>>,
    backoff: Duration,
    sleep_before_next: Option<Duration>,
}

impl<K: Object> State<K> {
    fn fail(&mut self, err: WatcherError) {
        self.sleep_before_next = Some(self.backoff);
        self.backoff = (self.backoff * 2).min(self.config.max_backoff);
        self.pending.push_back(Err(err));
    }

    fn progressed(&mut self) {
        self.backoff = self.config.initial_backoff;
    }

    fn list_params(&self, continue_token: Option<&str>) -> ListParams {
        ListParams {
            label_selector: self.config.label_selector.clone(),
            field_selector: self.config.field_selector.clone(),
            limit: self.config.page_size,
            continue_token: continue_token.map(str::to_owned),
            ..ListParams::default()
        }
    }

    async fn list_page(&mut self, continue_token: Option<String>, first: bool) {
        let params = self.list_params(continue_token.as_deref());
        match self.api.list(&params).await {
            Ok(list) => {
                self.progressed();
                if first {
                    self.pending.push_back(Ok(Event::Init));
                }
                let revision = list.metadata.resource_version.clone().unwrap_or_default();
                self.pending
                    .extend(list.items.into_iter().map(|o| Ok(Event::InitApply(o))));
                match list.metadata.continue_.filter(|c| !c.is_empty()) {
                    Some(token) => {
                        self.phase = Phase::Listing {
                            continue_token: token,
                            revision,
                        }
                    }
                    None => {
                        self.pending.push_back(Ok(Event::InitDone));
                        self.phase = Phase::Listed { revision };
                    }
                }
            }
            Err(e) => {
                if e.is_expired() {
                    // The continue token's revision was compacted: start the list over.
                    self.phase = Phase::Empty;
                    self.pending.push_back(Err(WatcherError::List(e)));
                } else {
                    self.fail(WatcherError::List(e));
                }
            }
        }
    }

    /// The watch's selectors and bookmarks, from the config.
    fn watch_params(&self) -> WatchParams {
        WatchParams {
            label_selector: self.config.label_selector.clone(),
            field_selector: self.config.field_selector.clone(),
            bookmarks: self.config.bookmarks,
            ..WatchParams::default()
        }
    }

    async fn start_streaming_list(&mut self) {
        let params = self.watch_params().streaming_lists();
        match self.api.watch(&params).await {
            Ok(stream) => {
                self.progressed();
                self.pending.push_back(Ok(Event::Init));
                self.phase = Phase::Streaming { stream };
            }
            Err(e) => self.fail(WatcherError::WatchStart(e)),
        }
    }

    /// One event of a streaming list's initial part. Anything that ends the watch before the
    /// initial-events-end bookmark starts the list over.
    async fn stream_initial(
        &mut self,
        mut stream: BoxStream<'static, Result<WatchEvent<K>, StoreError>>,
    ) {
        match stream.next().await {
            Some(Ok(WatchEvent::Added(o))) => {
                self.pending.push_back(Ok(Event::InitApply(o)));
                self.phase = Phase::Streaming { stream };
            }
            Some(Ok(WatchEvent::Bookmark(b))) if b.initial_events_end => {
                self.progressed();
                self.pending.push_back(Ok(Event::InitDone));
                self.phase = Phase::Watching {
                    revision: b.resource_version,
                    stream,
                };
            }
            // A progress bookmark; the initial part has only ADDED events otherwise.
            Some(Ok(_)) => self.phase = Phase::Streaming { stream },
            Some(Err(e)) if e.is_expired() => {
                self.pending.push_back(Err(WatcherError::Watch(e)));
            }
            Some(Err(e)) => self.fail(WatcherError::Watch(e)),
            None => {}
        }
    }

    async fn step(&mut self) {
        if let Some(d) = self.sleep_before_next.take() {
            tokio::time::sleep(d).await;
        }
        match std::mem::replace(&mut self.phase, Phase::Empty) {
            Phase::Empty
                if self.config.initial_list_strategy == InitialListStrategy::StreamingList =>
            {
                self.start_streaming_list().await;
            }
            Phase::Empty => self.list_page(None, true).await,
            Phase::Streaming { stream } => self.stream_initial(stream).await,
            Phase::Listing {
                continue_token,
                revision,
            } => {
                self.phase = Phase::Listing {
                    continue_token: continue_token.clone(),
                    revision,
                };
                self.list_page(Some(continue_token), false).await;
            }
            Phase::Listed { revision } => {
                let params = self.watch_params().from_revision(&revision);
                match self.api.watch(&params).await {
                    Ok(stream) => self.phase = Phase::Watching { revision, stream },
                    Err(e) if e.is_expired() => {
                        self.pending.push_back(Err(WatcherError::WatchStart(e)));
                    }
                    Err(e) => {
                        self.phase = Phase::Listed { revision };
                        self.fail(WatcherError::WatchStart(e));
                    }
                }
            }
            Phase::Watching {
                mut revision,
                mut stream,
            } => match stream.next().await {
                Some(Ok(ev)) => {
                    self.progressed();
                    let event = match ev {
                        WatchEvent::Added(o) | WatchEvent::Modified(o) => {
                            revision = rv_of(&o, revision);
                            Some(Event::Apply(o))
                        }
                        WatchEvent::Deleted(o) => {
                            revision = rv_of(&o, revision);
                            Some(Event::Delete(o))
                        }
                        WatchEvent::Bookmark(b) => {
                            revision = b.resource_version;
                            None
                        }
                    };
                    self.pending.extend(event.map(Ok));
                    self.phase = Phase::Watching { revision, stream };
                }
                Some(Err(e)) if e.is_expired() => {
                    self.pending.push_back(Err(WatcherError::Watch(e)));
                }
                Some(Err(e)) => {
                    self.phase = Phase::Listed { revision };
                    self.fail(WatcherError::Watch(e));
                }
                // The watch closed: reopen it from where it was.
                None => self.phase = Phase::Listed { revision },
            },
        }
    }
}

fn rv_of<K: Object>(obj: &K, fallback: String) -> String {
    obj.meta().resource_version.clone().unwrap_or(fallback)
}

/// A never-ending list+watch stream of `api`'s objects.
///
/// # Guarantees
/// After every [`Event::InitDone`], the events since the matching [`Event::Init`] describe
/// the complete state at the list's revision; every later change arrives in revision order.
/// The stream never ends by itself.
pub fn watcher<K: Object>(
    api: Api<K>,
    config: Config,
) -> impl Stream<Item = Result<Event<K>, WatcherError>> + Send + 'static {
    let backoff = config.initial_backoff;
    let state = State {
        api,
        config,
        phase: Phase::Empty,
        pending: VecDeque::new(),
        backoff,
        sleep_before_next: None,
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(item) = state.pending.pop_front() {
                return Some((item, state));
            }
            state.step().await;
        }
    })
}
