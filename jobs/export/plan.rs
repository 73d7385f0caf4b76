//! The diff of a sync: the audience's members against what the destination holds after the
//! last confirmed requests. Pure, so it is tested here.

use std::collections::{HashMap, HashSet};

use super::destination::{Contact, Mode, Removal};
use super::state::Synced;

#[derive(Debug, Default)]
pub struct Plan {
    /// Indices into the members: adds first, then updates.
    pub upserts: Vec<usize>,
    pub adds: usize,
    pub updates: usize,
    pub unchanged: usize,
    /// Contacts this sync added that have left the audience (mirror mode).
    pub removes: Vec<Removal>,
    /// Contacts that left the audience but were in the destination before we synced them:
    /// mirror forgets them without removing them.
    pub forget: Vec<String>,
}

impl Plan {
    /// Mirror's safety cap: removing more than `max_pct` percent of what was synced.
    pub fn exceeds_remove_cap(&self, synced: usize, max_pct: f64) -> bool {
        !self.removes.is_empty() && (self.removes.len() as f64) > max_pct / 100.0 * synced as f64
    }
}

pub fn plan(members: &[Contact], state: &HashMap<String, Synced>, mode: Mode) -> Plan {
    let mut p = Plan::default();
    let mut updates = vec![];
    for (i, c) in members.iter().enumerate() {
        match state.get(&c.email) {
            None => {
                p.upserts.push(i);
                p.adds += 1;
            }
            Some(s) if s.hash != c.hash && mode != Mode::AddOnly => updates.push(i),
            Some(_) => p.unchanged += 1,
        }
    }
    p.updates = updates.len();
    p.upserts.extend(updates);
    if mode == Mode::Mirror {
        let wanted: HashSet<&str> = members.iter().map(|c| c.email.as_str()).collect();
        let mut gone: Vec<(&String, &Synced)> = state.iter().filter(|(e, _)| !wanted.contains(e.as_str())).collect();
        gone.sort_by(|a, b| a.0.cmp(b.0));
        for (email, s) in gone {
            if s.added {
                p.removes.push(Removal { customer_id: s.customer_id.clone(), email: email.clone(), remote_id: s.remote_id.clone() });
            } else {
                p.forget.push(email.clone());
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(e: &str, attrs: &str) -> Contact {
        Contact::new(format!("c-{e}"), e.into(), attrs.into())
    }

    fn synced(c: &Contact, added: bool) -> Synced {
        Synced { customer_id: c.customer_id.clone(), hash: c.hash.clone(), remote_id: None, added }
    }

    #[test]
    fn adds_updates_removes_per_mode() {
        let a = member("a@x.io", r#"{"segment":"At Risk"}"#);
        let b_old = member("b@x.io", r#"{"segment":"At Risk"}"#);
        let b_new = member("b@x.io", r#"{"segment":"Lost"}"#);
        let gone_ours = member("c@x.io", "{}");
        let gone_theirs = member("d@x.io", "{}");
        let state: HashMap<String, Synced> = [
            (b_old.email.clone(), synced(&b_old, true)),
            (gone_ours.email.clone(), synced(&gone_ours, true)),
            (gone_theirs.email.clone(), synced(&gone_theirs, false)),
        ]
        .into();
        let members = vec![a.clone(), b_new.clone()];

        let m = plan(&members, &state, Mode::Mirror);
        assert_eq!((m.adds, m.updates, m.unchanged), (1, 1, 0));
        assert_eq!(m.upserts, vec![0, 1]);
        assert_eq!(m.removes.iter().map(|r| r.email.as_str()).collect::<Vec<_>>(), ["c@x.io"]);
        assert_eq!(m.forget, ["d@x.io"]);

        let u = plan(&members, &state, Mode::Upsert);
        assert_eq!((u.adds, u.updates), (1, 1));
        assert!(u.removes.is_empty() && u.forget.is_empty());

        let o = plan(&members, &state, Mode::AddOnly);
        assert_eq!((o.adds, o.updates, o.unchanged), (1, 0, 1));
        assert_eq!(o.upserts, vec![0]);
    }

    #[test]
    fn remove_cap() {
        let p = Plan { removes: vec![Removal { customer_id: "c".into(), email: "e".into(), remote_id: None }; 3], ..Default::default() };
        assert!(p.exceeds_remove_cap(10, 20.0));
        assert!(!p.exceeds_remove_cap(15, 20.0));
        assert!(!Plan::default().exceeds_remove_cap(0, 20.0));
    }
}
