//! `dd-sealing-key`: the command the docs give for making a sealing key.

use std::process::Command;

use dd_integration::{Sealer, SealingKey};

#[test]
fn the_command_prints_a_key_that_seals_and_opens() {
    let output = Command::new(env!("CARGO_BIN_EXE_dd-sealing-key"))
        .arg("k2026-12")
        .output()
        .expect("the command runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("DD_SEALING_KEY_ID=k2026-12"));
    let key = lines
        .next()
        .and_then(|l| l.strip_prefix("DD_SEALING_KEY="))
        .expect("the key line");
    assert_eq!(lines.next(), None, "nothing else on standard output");
    let sealer = Sealer::new(SealingKey::from_base64("k2026-12", key).expect("the key loads"));
    let sealed = sealer.seal("purpose", b"secret");
    assert_eq!(sealer.open("purpose", &sealed).unwrap(), b"secret");
    // Two runs, two keys.
    let again = Command::new(env!("CARGO_BIN_EXE_dd-sealing-key"))
        .output()
        .unwrap();
    let again = String::from_utf8(again.stdout).unwrap();
    assert!(again.starts_with("DD_SEALING_KEY_ID=k1\n"), "{again}");
    assert!(!again.contains(key));
}

#[test]
fn a_bad_key_id_is_refused_with_a_message_and_no_key() {
    let output = Command::new(env!("CARGO_BIN_EXE_dd-sealing-key"))
        .arg("not a valid id!")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(!output.stderr.is_empty());
}
