//! YAML 1.2 reading on top of `saphyr-parser`'s event stream: [`parse`] builds one
//! `serde_json::Value` per document (with positions and warnings), [`scalar`] resolves plain
//! scalars. The public entry points are in [`crate::load`].

pub(crate) mod parse;
pub(crate) mod scalar;
