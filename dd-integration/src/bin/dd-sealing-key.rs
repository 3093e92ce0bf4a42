//! Makes a sealing key for the SDK: `dd-sealing-key [KEY_ID]`.
//!
//! Prints two lines for the partner's secret manager or environment, the key id and the key in
//! the base64 form `SealingKey::from_base64`, `from_env` and `from_file` read:
//!
//! ```text
//! DD_SEALING_KEY_ID=k2026-12
//! DD_SEALING_KEY=<44 characters of base64>
//! ```
//!
//! Run it from a checkout with `cargo run -p dd-integration --bin dd-sealing-key -- k1`, or
//! install it with `cargo install dd-integration --bin dd-sealing-key`. The key comes from the
//! operating system's random source and is printed once, to standard output only.

use std::io::Write as _;
use std::process::ExitCode;

use dd_integration::SealingKey;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let id = args.next().unwrap_or_else(|| "k1".to_owned());
    if id == "-h" || id == "--help" || args.next().is_some() {
        eprintln!(
            "usage: dd-sealing-key [KEY_ID]\n\nPrints a new 256-bit sealing key (KEY_ID defaults to k1; 1 to 32 characters of A-Z a-z 0-9 _ -)\nas DD_SEALING_KEY_ID=... and DD_SEALING_KEY=... lines for your secret manager."
        );
        return ExitCode::from(2);
    }
    match SealingKey::generate(&id) {
        Ok((_, base64)) => {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "DD_SEALING_KEY_ID={id}\nDD_SEALING_KEY={base64}").is_err() {
                return ExitCode::FAILURE;
            }
            eprintln!(
                "Store both in your secret manager, never in the repository. Every replica uses the same key: \
                 SealingKey::from_env(&std::env::var(\"DD_SEALING_KEY_ID\")?, \"DD_SEALING_KEY\")."
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dd-sealing-key: {e}");
            ExitCode::from(2)
        }
    }
}
