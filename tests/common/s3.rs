//! The binary and the Python tools against a moto S3 server (`start_moto`).

use std::process::Command;

use super::{cmd, python, s3_env};

pub fn s3_cmd(endpoint: &str, wh: &str, args: &[&str]) -> Command {
    let mut c = cmd(wh, args);
    s3_env(&mut c, endpoint);
    c
}

pub fn s3_ok(endpoint: &str, wh: &str, args: &[&str]) -> String {
    let out = s3_cmd(endpoint, wh, args).output().unwrap();
    assert!(out.status.success(), "ecomwh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

pub fn s3_count(endpoint: &str, wh: &str, q: &str) -> u64 {
    let text = s3_ok(endpoint, wh, &["sql", q, "--format", "csv"]);
    text.lines().nth(1).unwrap().parse().unwrap()
}

/// A Python script with the S3 settings; panics with its stderr when it fails.
pub fn py(endpoint: &str, args: &[&str]) -> String {
    let mut c = Command::new(python());
    c.args(args);
    s3_env(&mut c, endpoint);
    let out = c.output().unwrap();
    assert!(out.status.success(), "python {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
