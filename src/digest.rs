//! SHA-256 as lowercase hex: how shipped weights and published model files are sealed,
//! so that a damaged or altered file is refused rather than used.

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
