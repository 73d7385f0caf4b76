//! The check every contact passes before it is sent: an address an email tool would refuse
//! (RFC 5321 lengths, RFC 5322 dot-atom local part, RFC 1035 host names) is a permanent
//! failure recorded in export_failures, not a request that fails at the vendor every night.

/// Why `email` is not a deliverable address, or None when it is.
pub fn problem(email: &str) -> Option<&'static str> {
    // RFC 5321 4.5.3.1: a path of at most 256 octets, so an address of at most 254.
    if email.len() > 254 {
        return Some("address longer than 254 characters (RFC 5321)");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Some("no at sign in the address");
    };
    if local.is_empty() {
        return Some("empty local part (nothing before the at sign)");
    }
    if local.len() > 64 {
        return Some("local part longer than 64 characters (RFC 5321)");
    }
    if local.starts_with('"') {
        return Some("quoted local part: email tools refuse it");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some("local part with a dot at the start or end, or two dots in a row (RFC 5322)");
    }
    // RFC 5322 atext, plus any non-ASCII character (RFC 6531).
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-.".contains(c) || !c.is_ascii();
    if !local.chars().all(atext) {
        return Some("character not allowed in the local part (RFC 5322)");
    }
    if domain.is_empty() || domain.len() > 253 {
        return Some("domain empty or longer than 253 characters");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Some("domain without a dot");
    }
    for l in &labels {
        if l.is_empty() {
            return Some("empty label in the domain (two dots in a row, or a dot at an end)");
        }
        if l.len() > 63 {
            return Some("domain label longer than 63 characters (RFC 1035)");
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Some("domain label starting or ending with a hyphen (RFC 1035)");
        }
        if !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii()) {
            return Some("character not allowed in the domain");
        }
    }
    if labels.last().is_some_and(|t| t.chars().all(|c| c.is_ascii_digit())) {
        return Some("top-level domain is all digits");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn deliverable_addresses_pass() {
        for ok in ["ana.lopez.00042@example.com", "o'brien+news@mail.example.co.uk", "x@a-b.io", "jörg@müller.de", &format!("{}@example.com", "a".repeat(64))]
        {
            assert_eq!(problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn undeliverable_addresses_say_why() {
        for (bad, why) in [
            ("ana.@example.com", "dot at the start or end"),
            ("ana..lopez@example.com", "two dots"),
            (".ana@example.com", "dot at the start or end"),
            ("ana@example", "without a dot"),
            ("ana@-example.com", "hyphen"),
            ("ana@example.123", "all digits"),
            ("ana lopez@example.com", "not allowed"),
            ("\"ana\"@example.com", "quoted"),
            ("ana@exa_mple.com", "not allowed in the domain"),
            (&format!("{}@example.com", "a".repeat(65)), "64"),
            (&format!("a@{}.com", "b".repeat(64)), "63"),
            ("@example.com", "empty local part"),
            ("example.com", "no at sign"),
        ] {
            let got = problem(bad).unwrap_or_else(|| panic!("{bad} passed"));
            assert!(got.contains(why) && !got.contains('@'), "{bad}: {got}");
        }
    }
}
