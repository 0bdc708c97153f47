//! Explain mode.
