//! Planning: every (probe, zone) always has its next fire persisted before
//! it is due, with its jitter already drawn, so a restart neither drops nor
//! repeats a run.
//!
//! The store keeps, per (probe, zone), the last fire already planned. A
//! planning pass walks the cron schedule forward from there (from "now" the
//! very first time) and writes one record per fire until it has written one
//! in the future:
//!
//! - a fire more than `missed-grace` in the past (the daemon was down, or
//!   the clock jumped forward) is recorded as `skipped`, never sent late in
//!   bulk;
//! - a fire within the grace is planned and will be sent at once, unless a
//!   later fire of the same schedule is already due too: then only the
//!   latest is planned and the earlier ones are `skipped`, so a jump forward
//!   never releases a burst of catch-up fires;
//! - the clock jumping back changes nothing: the walk starts after the last
//!   planned fire, so no fire is planned twice.

use jiff::{SignedDuration, Timestamp};

use super::{Engine, EngineError};
use crate::model::{Origin, ProbeId, ProbeRecord, ProbeState};
use crate::schedule::CronSchedule;

/// Fires walked per (probe, zone) and pass at most; a longer gap is
/// summarized instead of recorded fire by fire.
const MAX_WALK: usize = 500;

/// What a planning pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PlanReport {
    /// Newly planned probes.
    pub planned: Vec<ProbeId>,
    /// Fires recorded as skipped because they were missed.
    pub skipped: Vec<ProbeId>,
}

impl Engine {
    /// Persists the next fire of every enabled (probe, zone).
    pub fn plan(&self) -> Result<PlanReport, EngineError> {
        let now = self.clock.now();
        let grace = SignedDuration::try_from(self.config.daemon.missed_grace)
            .map_err(|e| EngineError::Invalid(format!("missed-grace: {e}")))?;
        let mut report = PlanReport::default();
        if !self.config.enabled {
            return Ok(report);
        }
        for probe in self.config.active_probes() {
            let cron = CronSchedule::parse(&probe.schedule)
                .map_err(|e| EngineError::Invalid(format!("probe {}: {e}", probe.name)))?;
            for (zone_name, tz) in &probe.zones {
                if self
                    .store
                    .last_planned(&probe.name, zone_name)?
                    .is_some_and(|t| t > now)
                {
                    // The next fire is already planned: nothing to write.
                    continue;
                }
                self.store.write(|tx| -> Result<(), EngineError> {
                    let mut cursor = tx.last_planned(&probe.name, zone_name)?.unwrap_or(now);
                    for _ in 0..MAX_WALK {
                        let Some(fire) = cron.next_after(cursor, tz) else {
                            break;
                        };
                        let missed = now.duration_since(fire) > grace;
                        // A later fire that is also already due supersedes this
                        // one: after a clock jump or a stall, at most one
                        // catch-up fire per (probe, zone) is sent, never a burst.
                        let superseded = !missed
                            && cron.next_after(fire, tz).is_some_and(|next| next <= now);
                        let rec = self.new_record(probe, zone_name, fire, Origin::Schedule, now)?;
                        let mut rec = rec;
                        if superseded {
                            rec.state = ProbeState::Skipped;
                            rec.state_reason = Some(format!(
                                "missed: a later fire of this schedule was due too when {fire} \
                                 was planned (clock jump or pause); only the latest is sent"
                            ));
                            report.skipped.push(rec.id.clone());
                        } else if missed {
                            rec.state = ProbeState::Skipped;
                            rec.state_reason = Some(format!(
                                "missed: the daemon was not running at {fire} (more than the \
                                 missed-grace of {} late)",
                                grace_text(grace)
                            ));
                            report.skipped.push(rec.id.clone());
                        } else {
                            if fire <= now {
                                // A catch-up fire: any earlier fire of this
                                // schedule still planned is superseded by it.
                                tx.supersede_planned(
                                    &probe.name,
                                    zone_name,
                                    fire,
                                    "missed: a later fire of this schedule was due too \
                                     (clock jump or pause); only the latest is sent",
                                )?;
                            }
                            report.planned.push(rec.id.clone());
                        }
                        tx.put(&rec)?;
                        tx.set_last_planned(&probe.name, zone_name, fire)?;
                        cursor = fire;
                        if fire > now {
                            break;
                        }
                    }
                    if cursor < now.checked_sub(grace).unwrap_or(now) {
                        // The gap was longer than MAX_WALK fires: jump to now
                        // and say so, rather than write thousands of records.
                        tracing::warn!(probe = %probe.name, zone = %zone_name, "long gap in the schedule; fires before now were not recorded one by one");
                        tx.set_last_planned(&probe.name, zone_name, now)?;
                    }
                    Ok(())
                })?;
            }
        }
        for id in &report.planned {
            tracing::info!(probe = %id, "planned");
        }
        for id in &report.skipped {
            tracing::info!(probe = %id, "skipped: fire missed by more than missed-grace");
        }
        Ok(report)
    }

    /// A fresh record for `probe` firing at `fire` in `zone`, due after jitter.
    pub(crate) fn new_record(
        &self,
        probe: &crate::config::Probe,
        zone: &str,
        fire: Timestamp,
        origin: Origin,
        now: Timestamp,
    ) -> Result<ProbeRecord, EngineError> {
        let jitter_ms = u64::try_from(probe.jitter.as_millis()).unwrap_or(u64::MAX);
        let jitter = if jitter_ms == 0 {
            SignedDuration::ZERO
        } else {
            let drawn = self
                .rng
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .u64(0..=jitter_ms);
            SignedDuration::from_millis(i64::try_from(drawn).unwrap_or(i64::MAX))
        };
        let channel = self.channels.get(&probe.persona).map(|c| &**c);
        draft_record(
            &self.config,
            probe,
            zone,
            fire,
            origin,
            now,
            jitter,
            channel,
        )
    }
}

/// A fresh `planned` record for `probe` firing at `fire` in `zone`, due
/// `jitter` later, for the channel that will carry it (if known).
#[allow(clippy::too_many_arguments)]
pub fn draft_record(
    config: &crate::config::Config,
    probe: &crate::config::Probe,
    zone: &str,
    fire: Timestamp,
    origin: Origin,
    now: Timestamp,
    jitter: SignedDuration,
    channel: Option<&dyn crate::channel::Channel>,
) -> Result<ProbeRecord, EngineError> {
    let vendor = config
        .vendor(&probe.vendor)
        .ok_or_else(|| EngineError::Invalid(format!("unknown vendor {}", probe.vendor)))?;
    let id = ProbeId::generate(now);
    let detail = probe.detail_for(&id.to_string()).map(str::to_string);
    let sla = probe
        .priority
        .as_ref()
        .and_then(|p| vendor.sla.get(p))
        .map(|d| d.as_secs());
    Ok(ProbeRecord {
        token: id.token(),
        id,
        probe: probe.name.clone(),
        vendor: probe.vendor.clone(),
        persona: probe.persona.clone(),
        channel: channel.map_or("email", |c| c.kind()).to_string(),
        watch_key: channel.map(|c| c.watch_key()),
        zone: zone.to_string(),
        origin,
        priority: probe.priority.clone(),
        scheduled_for: fire,
        due_at: fire.checked_add(jitter).unwrap_or(fire),
        state: ProbeState::Planned,
        state_reason: None,
        subject: None,
        message_id: None,
        recipients: vendor.addresses.clone(),
        filing_started_at: None,
        filed_at: None,
        filed_time_source: None,
        window: None,
        answer_within_secs: probe.answer_within.as_secs(),
        sla_target_secs: sla,
        first_ack_at: None,
        first_human_at: None,
        first_human_key: None,
        censored_at: None,
        vendor_refs: Vec::new(),
        messages: Vec::new(),
        attempts: Vec::new(),
        notes: Vec::new(),
        language: probe.language.clone(),
        detail,
        expect: probe.expect.clone(),
        rounds: Vec::new(),
        resolution: None,
        resolution_unseen_at: None,
    })
}

fn grace_text(d: SignedDuration) -> String {
    let secs = d.as_secs();
    if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    fn config_text() -> String {
        [
            r#"
[[vendor]]
name = "acme"
addresses = ["support@acme.example"]
"#,
            &crate::testkit::persona_toml("li", "Li Wei", "li@team.example", ""),
            r#"
[[probe]]
name = "status-zh"
vendor = "acme"
persona = "li"
schedule = "0 0 2 * * *"
zones = ["Asia/Shanghai"]
language = "zh-CN"
details = ["stream key ending 4F7Q", "edge node sg-3", "bucket cn-east-7"]
expect = ["https://status\\.acme\\.example"]
subject = "关于 {detail} 的问题 {token}"
body = "您好，{detail} 的事故在哪里公布？"

[[probe]]
name = "plain"
vendor = "acme"
persona = "li"
schedule = "0 0 2 * * *"
zones = ["UTC"]
subject = "Test {token}"
body = "Hello"
"#,
        ]
        .concat()
    }

    fn config() -> crate::config::Config {
        match crate::config::parse_str(&config_text(), Path::new("probes.toml")) {
            Ok(l) => l.config,
            Err(e) => panic!("{e}"),
        }
    }

    fn draft(config: &crate::config::Config, probe: &str) -> ProbeRecord {
        let probe = config.probe(probe).unwrap();
        let t: Timestamp = "2026-11-02T18:00:00Z".parse().unwrap();
        let zone = probe.zones[0].0.clone();
        draft_record(
            config,
            probe,
            &zone,
            t,
            Origin::Schedule,
            t,
            SignedDuration::ZERO,
            None,
        )
        .unwrap()
    }

    #[test]
    fn the_planned_record_carries_language_expect_and_a_detail_drawn_from_its_id() {
        let config = config();
        let probe = config.probe("status-zh").unwrap();
        let mut drawn = BTreeSet::new();
        for _ in 0..200 {
            let rec = draft(&config, "status-zh");
            assert_eq!(rec.language.as_deref(), Some("zh-CN"));
            assert_eq!(rec.expect, ["https://status\\.acme\\.example"]);
            let detail = rec.detail.clone().unwrap();
            // Drawn from the list, and the same draw the id always gives.
            assert!(probe.details.contains(&detail), "{detail}");
            assert_eq!(probe.detail_for(&rec.id.to_string()), Some(detail.as_str()));
            drawn.insert(detail);
        }
        // Random ids spread over the whole list.
        assert_eq!(drawn.len(), probe.details.len());
    }

    #[test]
    fn a_probe_without_the_keys_plans_none_of_them() {
        let rec = draft(&config(), "plain");
        assert_eq!(rec.language, None);
        assert_eq!(rec.detail, None);
        assert!(rec.expect.is_empty());
    }

    #[test]
    fn the_filed_message_says_the_planned_detail() {
        let config = config();
        let rec = draft(&config, "status-zh");
        let detail = rec.detail.clone().unwrap();
        let (out, _) = super::super::compose(&config, &rec, rec.due_at).unwrap();
        assert!(
            out.subject.starts_with(&format!("关于 {detail} 的问题 ")),
            "{}",
            out.subject
        );
        assert!(
            out.body.starts_with(&format!("您好，{detail} 的事故")),
            "{}",
            out.body
        );
    }
}
