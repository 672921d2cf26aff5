//! Living-document sources: where the team's running notes are read from.
#![forbid(unsafe_code)]
