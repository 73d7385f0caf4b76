//! The container image: its Dockerfile builds the release binary in one stage and runs it as a
//! non-root user from a slim one. Building the image needs a container runtime and a release
//! build (tens of minutes on 2 cores), so it runs only with ECOMWH_TEST_DOCKER=1 where `docker`
//! answers; the rest of the checks run everywhere.

use std::path::Path;
use std::process::Command;

fn dockerfile() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile")).expect("Dockerfile")
}

#[test]
fn the_image_is_multi_stage_release_and_non_root() {
    let text = dockerfile();
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.starts_with('#')).collect();
    let froms: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "a build stage and a runtime stage: {froms:?}");
    assert!(froms[0].contains(" AS build"), "{froms:?}");
    assert!(lines.iter().any(|l| l.contains("cargo build --release --locked")), "release build");
    assert!(lines.iter().any(|l| l.starts_with("COPY --from=build")), "only the binary crosses over");
    let user = lines.iter().rev().find(|l| l.starts_with("USER ")).expect("a USER line");
    assert!(!user.contains("root") && !user.ends_with(" 0") && !user.contains(" 0:"), "{user}");
    assert!(lines.iter().any(|l| l.starts_with("ENTRYPOINT [\"ecomwh\"]")));
    // Everything the crate compiles in is copied into the build stage.
    for dir in ["jobs", "sql", "schemas", "examples"] {
        assert!(lines.iter().any(|l| *l == format!("COPY {dir} {dir}")), "COPY {dir}");
    }
    assert!(lines.iter().any(|l| l.starts_with("COPY ") && l.contains(" build.rs ")), "build.rs, which embeds sql/ and schemas/");
}

#[test]
fn the_image_builds_and_runs_where_a_container_runtime_is() {
    if std::env::var("ECOMWH_TEST_DOCKER").ok().as_deref() != Some("1") {
        eprintln!("skipped: set ECOMWH_TEST_DOCKER=1 (and have docker running) to build the image");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let st = Command::new("docker").args(["build", "-t", "ecomwh-test", root]).status().expect("docker runs");
    assert!(st.success(), "docker build failed");
    let out = Command::new("docker").args(["run", "--rm", "ecomwh-test", "--version"]).output().expect("docker runs");
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("ecomwh"), "{out:?}");
    let out = Command::new("docker").args(["run", "--rm", "--entrypoint", "id", "ecomwh-test", "-u"]).output().expect("docker runs");
    assert_ne!(String::from_utf8_lossy(&out.stdout).trim(), "0", "the image must not run as root");
}
