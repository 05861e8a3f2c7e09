//! The weekly digest rendered from a fixed week: snapshot tests of both
//! parts, escaping of vendor-supplied text, and the HTML opened in headless
//! Chromium (screenshot kept under target/test-artifacts/).
//!
//! `UPDATE_SNAPSHOTS=1 cargo test --test it -- digest_render::` rewrites the
//! expected files in tests/snapshots/ after a deliberate change.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::kit::digest_fixture::{EVIL_SUBJECT, config, probes, read_at};
use support_probe::digest::{self, Digest, render};
use support_probe::model::ReadingRow;
use support_probe::report::own::OwnSide;
use support_probe::view;

fn week47() -> Digest {
    digest::compose(
        &probes(),
        &config(),
        "2026-W47".parse().unwrap(),
        read_at(),
        &OwnSide::default(),
    )
    .unwrap()
}

fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run with UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from the snapshot at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             (UPDATE_SNAPSHOTS=1 rewrites it after a deliberate change)",
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

#[test]
fn the_subject_carries_the_hand_computed_headline() {
    let d = week47();
    // acme: 3 met (30, 40, 50 min), 3 breached (14 h off-hours, unanswered
    // off-hours, 48 h weekend); beta: 2 met, 1 bounced (not counted).
    assert_eq!(
        d.subject,
        "Vendor support, week 47: 1 of 2 vendors missed their 1h target outside business hours"
    );
    let acme = &d.report.vendors[0];
    assert_eq!(acme.overall.sla.display(), "50% (3/6)");
    // Calendar times 30m, 40m, 50m, 14h, 48h answered and 72h censored:
    // S = 5/6, 4/6, 3/6 -> the median is 50 minutes.
    assert_eq!(acme.overall.calendar.median.display(), "50m 0s");
    assert_eq!(acme.change.unwrap().median_display(), "+30m 0s");
    assert_eq!(d.report.our_side.not_filed.len(), 1);
}

#[test]
fn each_vendor_has_a_scorecard_in_both_parts() {
    let d = week47();
    // acme: answered after 30, 40, 50 min, 14 h and 48 h, one unanswered
    // (acknowledged only). Closed: 6, replied: 5, ack-only: 1. Mean among
    // the answered: (2 h + 62 h) / 5 = 12 h 48 m; their median 50 min.
    // Within 1 h: 3 of 6 on the curve (nobody censored before), 24 h: 4 of 6.
    let text = render::text(&d);
    let html = render::html(&d);
    for (figure, value) in [
        ("reply rate (any human reply; closed probes)", "83% (n = 6)"),
        (
            "ack-only rate (acknowledged, never answered)",
            "17% (n = 6)",
        ),
        (
            "mean among answered (as in published studies)",
            "12h 48m (n = 5)",
        ),
        (
            "median among answered (as in published studies)",
            "50m 0s (n = 5)",
        ),
        (
            "answered within (Kaplan-Meier, 1 - S(t))",
            "1h 50%, 4h 50%, 24h 67% (n = 6)",
        ),
        ("personal", "– (n = 0)"),
    ] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(figure))
            .unwrap_or_else(|| panic!("no {figure:?} line in:\n{text}"));
        assert!(line.ends_with(value), "{line}");
        assert!(
            html.contains(&format!(
                ">{}</td><td",
                maud::html! { (figure) }.into_string()
            )),
            "{figure}"
        );
        assert!(html.contains(&format!(">{value}</td></tr>")), "{value}");
    }
    assert_eq!(text.matches("Scorecard (n = probes").count(), 2);
}

#[test]
fn text_part_matches_its_snapshot() {
    snapshot("digest-2026-W47.txt", &render::text(&week47()));
}

#[test]
fn html_part_matches_its_snapshot() {
    snapshot("digest-2026-W47.html", &render::html(&week47()));
}

#[test]
fn a_reply_subject_cannot_inject_markup_into_the_html() {
    // A vendor name written by someone hostile reaches the ranking, the
    // bars, the tables, the heatmap (and its cell titles' neighbours) and
    // the trend: every copy is escaped.
    let mut d = week47();
    let evil = "<img src=x onerror=alert(1)>\"'";
    d.ranking[0].vendor = evil.into();
    d.report.vendors[0].vendor = evil.into();
    d.views[0].vendor = evil.into();
    d.views[0].coverage.vendor = evil.into();
    let html = render::html(&d);
    let shown = "&lt;img src=x onerror=alert(1)&gt;&quot;'";
    // Ranking, bars, the vendor's section, its heatmap, its trend.
    assert_eq!(html.matches(shown).count(), 5);
    assert!(html.contains("title=\"Tue 22–23h: 1 filed, 0 answered, median &gt; 3d 0h\""));
    assert!(
        html.contains(
            "Re: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=&quot;https://evil.example/t.png&quot;&gt; &amp; &lt;/td&gt;&lt;/tr&gt;"
        ),
        "the subject is shown, escaped"
    );
    let lower = html.to_ascii_lowercase();
    for forbidden in ["<script", "<img", "<link", "<iframe", "<style", "<a "] {
        assert!(
            !lower.contains(forbidden),
            "the HTML contains {forbidden:?}"
        );
    }
    // Every tag is one of the few this renderer writes, and no tag has an
    // attribute that loads or runs anything.
    for tag in lower.split('<').skip(1) {
        let inside = tag.split('>').next().unwrap();
        let name: String = inside
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        assert!(
            [
                "!doctype", "html", "head", "meta", "title", "body", "table", "tr", "td", "th",
                "p", "span", "div", "b", "svg", "g", "line", "text", "polyline", "circle",
                "polygon"
            ]
            .contains(&name.as_str()),
            "unexpected tag <{name}>"
        );
        for attr in ["src=", "href=", " on", "url(", "javascript:"] {
            assert!(!inside.contains(attr), "tag <{inside}> has {attr:?}");
        }
    }
    // The text part shows it as it came, quoted.
    assert!(render::text(&week47()).contains(&format!("{EVIL_SUBJECT:?}")));
}

/// Decodes an 8-bit RGB or RGBA PNG (what Chromium writes) into pixels.
fn png_pixels(bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut width, mut height, mut channels) = (0u32, 0u32, 0usize);
    let mut idat = Vec::new();
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = &bytes[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap());
                height = u32::from_be_bytes(data[4..8].try_into().unwrap());
                assert_eq!(data[8], 8, "bit depth");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("unexpected PNG colour type {other}"),
                };
                assert_eq!(data[12], 0, "interlaced PNGs are not expected");
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = width as usize * channels;
    let mut prev = vec![0u8; stride];
    let mut pixels = Vec::with_capacity((width * height) as usize);
    for row in raw.chunks(stride + 1).take(height as usize) {
        let filter = row[0];
        let mut cur = row[1..].to_vec();
        for i in 0..stride {
            let a = if i >= channels { cur[i - channels] } else { 0 };
            let b = prev[i];
            let c = if i >= channels { prev[i - channels] } else { 0 };
            let predictor = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("bad PNG filter {other}"),
            };
            cur[i] = cur[i].wrapping_add(predictor);
        }
        pixels.extend(cur.chunks(channels).map(|p| [p[0], p[1], p[2]]));
        prev = cur;
    }
    (width, height, pixels)
}

fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium with a fresh profile; returns its stdout.
fn chromium(page: &Path, extra: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run chromium ({e}); scripts/test installs it (apt-get install chromium)")
        });
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            return out;
        }
        assert!(Instant::now() < deadline, "chromium did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_html_renders_in_headless_chromium() {
    let dir = artifacts();
    let page = dir.join("digest-2026-W47.html");
    std::fs::write(&page, render::html(&week47())).unwrap();
    let shot = dir.join("digest-2026-W47.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=900,1800".to_string(),
        ],
    );
    println!("digest screenshot: {}", shot.display());
    let (w, h, pixels) = png_pixels(&std::fs::read(&shot).unwrap());
    assert_eq!((w, h), (900, 1800));
    let distinct: std::collections::BTreeSet<[u8; 3]> = pixels.iter().copied().collect();
    assert!(
        distinct.len() > 10,
        "the page is blank: {} colours",
        distinct.len()
    );
    // The chart's bars are drawn: both bar colours are on the page.
    for (name, colour) in [
        ("in-hours bar", [0x2f, 0x6f, 0xde]),
        ("out-of-hours bar", [0xe8, 0x83, 0x3a]),
    ] {
        let n = pixels.iter().filter(|p| **p == colour).count();
        assert!(n > 200, "the {name} is missing ({n} pixels)");
    }
    let dom = chromium(&page, &["--dump-dom".to_string()]);
    for text in [
        "1 of 2 vendors missed their 1h target outside business hours",
        "Median first human reply",
        "acme",
        "Our side (never counted against a vendor)",
        "&lt;script&gt;alert",
    ] {
        assert!(dom.contains(text), "the rendered page lacks {text:?}");
    }
    assert!(
        !dom.contains("<script>alert"),
        "a reply subject became markup"
    );
}

/// The layout check injected into the copy under test only: it writes
/// what it finds into `<pre id="layout-check">`, which `--dump-dom`
/// returns. It looks for the sections the issue names (present, not
/// empty, not flat), a body wider than the viewport, any element with
/// text of its own whose content is wider than its box, and any element
/// reaching past the right edge of the viewport — except inside a box that
/// scrolls sideways on purpose (a wide table on a phone) and inside SVG.
const LAYOUT_CHECK: &str = r##"<script>
(function () {
  var out = [];
  ["ranking", "coverage", "trend"].forEach(function (id) {
    var e = document.getElementById(id);
    if (!e) { out.push("missing #" + id); return; }
    if (!e.textContent.trim()) out.push("empty #" + id);
    if (e.getBoundingClientRect().height < 20) out.push("flat #" + id);
  });
  // Headless Chromium keeps a window at least 500 px wide for --dump-dom:
  // narrower widths are laid out by narrowing the root element (the pages
  // use no media queries, so that is the same layout).
  var want = __WIDTH__;
  if (document.documentElement.clientWidth > want) document.documentElement.style.width = want + "px";
  var vw = Math.min(document.documentElement.clientWidth, want);
  if (document.body.scrollWidth > vw) out.push("body " + document.body.scrollWidth + "px wider than the viewport " + vw + "px");
  function scrolls(e) {
    for (var a = e.parentElement; a; a = a.parentElement) {
      var o = getComputedStyle(a).overflowX;
      if (o === "auto" || o === "scroll") return true;
    }
    return false;
  }
  out.push("viewport " + vw);
  var all = document.body.getElementsByTagName("*");
  for (var i = 0; i < all.length; i++) {
    var e = all[i];
    if (e.closest("svg") || e.id === "layout-check" || e.tagName === "SCRIPT") continue;
    var own = false;
    for (var c = e.firstChild; c; c = c.nextSibling) if (c.nodeType === 3 && c.textContent.trim()) own = true;
    var what = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " \"" + e.textContent.trim().slice(0, 40) + "\"";
    if (own && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible")
      out.push("text overflows its box: " + what + " " + e.scrollWidth + " > " + e.clientWidth);
    var r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 1 && !scrolls(e))
      out.push("past the viewport: " + what + " right " + Math.round(r.right) + " > " + vw);
  }
  var pre = document.createElement("pre");
  pre.id = "layout-check";
  pre.textContent = out.length > 1 ? out.slice(0, 20).join("\n") : out[0] + " OK";
  document.body.appendChild(pre);
})();
</script>"##;

/// Screenshots `html` at 390 and 1280 px wide under target/test-artifacts
/// as `{name}-{width}.png`, then loads a copy with [`LAYOUT_CHECK`] at each
/// width and asserts it found nothing; returns the checked DOM of 1280 px.
fn renders_at_phone_and_desktop_width(name: &str, html: &str) -> String {
    let dir = artifacts();
    let page = dir.join(format!("{name}.html"));
    std::fs::write(&page, html).unwrap();
    assert!(html.contains("</body>"));
    let mut dom = String::new();
    for (width, height) in [(390, 4200), (1280, 2600)] {
        let checked = dir.join(format!("{name}-check-{width}.html"));
        let script = LAYOUT_CHECK.replace("__WIDTH__", &width.to_string());
        std::fs::write(
            &checked,
            html.replace("</body>", &format!("{script}</body>")),
        )
        .unwrap();
        let shot = dir.join(format!("{name}-{width}.png"));
        let _ = std::fs::remove_file(&shot);
        chromium(
            &page,
            &[
                format!("--screenshot={}", shot.display()),
                format!("--window-size={width},{height}"),
            ],
        );
        let (w, _, pixels) = png_pixels(&std::fs::read(&shot).unwrap());
        assert_eq!(w, width);
        let distinct: std::collections::BTreeSet<[u8; 3]> = pixels.iter().copied().collect();
        assert!(distinct.len() > 10, "{name} at {width} px is blank");
        dom = chromium(
            &checked,
            &[
                "--dump-dom".to_string(),
                format!("--window-size={width},{height}"),
            ],
        );
        let report = dom
            .split("<pre id=\"layout-check\">")
            .nth(1)
            .and_then(|r| r.split("</pre>").next())
            .unwrap_or_else(|| panic!("{name} at {width} px: the layout check did not run"));
        assert_eq!(
            report,
            format!("viewport {width} OK"),
            "{name} at {width} px:\n{report}"
        );
    }
    dom
}

#[test]
fn the_digest_and_the_status_page_fit_a_phone_and_a_desktop() {
    let dom = renders_at_phone_and_desktop_width("digest-2026-W47", &render::html(&week47()));
    // The heatmap's cell titles are there, in words.
    assert!(
        dom.contains("title=\"Tue 22–23h: 1 filed, 0 answered, median &gt; 3d 0h\""),
        "heatmap title"
    );
    let rows: Vec<ReadingRow> = probes().iter().map(ReadingRow::of).collect();
    let status = view::status::page(&rows, &config(), read_at(), &OwnSide::default());
    let dom = renders_at_phone_and_desktop_width("status", &status);
    for id in [
        "ranking",
        "coverage",
        "trend",
        "ranking-30d",
        "coverage-30d",
    ] {
        assert_eq!(
            dom.matches(&format!("id=\"{id}\"")).count(),
            1,
            "#{id} once"
        );
    }
    assert!(
        !status.to_ascii_lowercase().contains("<script"),
        "the status page has no script"
    );
    assert!(
        status.contains("&lt;script&gt;") || !status.contains("script"),
        "nothing unescaped"
    );
}

#[test]
fn our_own_downtime_is_shown_apart_and_never_moves_a_vendor_figure() {
    use std::collections::BTreeMap;
    use support_probe::store::{Outage, OutageKind};

    // Our SMTP was down for 90 minutes inside week 47 (Berlin), and an IMAP
    // outage that ended before the week is not mentioned.
    let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    let outage = |kind, start: &str, end: &str, reason: &str| Outage {
        kind,
        endpoint: "smtp:dana@mail.example.net:587".into(),
        persona: "dana".into(),
        started_at: t(start),
        ended_at: Some(t(end)),
        first_reason: reason.into(),
        last_reason: reason.into(),
        failures: 4,
    };
    let own = OwnSide::new(
        &BTreeMap::new(),
        vec![
            outage(
                OutageKind::Send,
                "2026-11-18T02:00:00Z",
                "2026-11-18T03:30:00Z",
                "connection refused <b>by</b> relay",
            ),
            outage(
                OutageKind::Watch,
                "2026-11-10T02:00:00Z",
                "2026-11-10T03:00:00Z",
                "the week before",
            ),
        ],
    );
    let with = digest::compose(
        &probes(),
        &config(),
        "2026-W47".parse().unwrap(),
        read_at(),
        &own,
    )
    .unwrap();
    let without = week47();
    assert_eq!(with.report, without.report, "vendor figures are untouched");
    assert_eq!(with.downtime.len(), 1, "{:?}", with.downtime);
    assert_eq!(with.downtime[0].secs, 90 * 60);

    let text = render::text(&with);
    let line = text
        .lines()
        .find(|l| l.contains("down       sending probes"))
        .unwrap_or_else(|| panic!("no downtime line in:\n{text}"));
    assert!(line.contains("1h 30m in 1 outage"), "{line}");
    assert!(!text.contains("nothing went wrong on our side"));
    assert!(!text.contains("the week before"));

    let html = render::html(&with);
    assert!(html.contains("connection refused &lt;b&gt;by&lt;/b&gt; relay"));
    assert!(!html.contains("<b>by</b>"));
    assert!(!html.contains("Nothing went wrong on our side."));
}

#[test]
fn a_reading_that_rests_on_an_unsure_class_is_marked_in_both_parts() {
    let mut probes = probes();
    use support_probe::model::ProbeState;
    // An answered probe: its first human reply decides its reading.
    let p = probes
        .iter_mut()
        .find(|p| p.state == ProbeState::Answered)
        .expect("the fixture has an answered probe");
    for m in &mut p.messages {
        m.confidence = support_probe::model::Confidence::Unsure;
    }
    let vendor = p.vendor.clone();
    let d = digest::compose(
        &probes,
        &config(),
        "2026-W47".parse().unwrap(),
        read_at(),
        &OwnSide::default(),
    )
    .unwrap();
    let v = d
        .report
        .vendors
        .iter()
        .find(|v| v.vendor == vendor)
        .unwrap();
    assert_eq!(v.overall.unsure, 1);
    let text = render::text(&d);
    assert!(
        text.contains("Unsure: 1 of ") && text.contains("(probe review)"),
        "{text}"
    );
    let html = render::html(&d);
    assert!(html.contains("Unsure: 1 of "), "{html}");
    // Without doubt, neither part says anything about it (the snapshots).
    assert!(!render::text(&week47()).contains("Unsure:"));
}

/// Gmail clips an HTML part over about 102 KB behind "View entire
/// message"; the budget leaves a little room under that.
const GMAIL_BUDGET: usize = 102_000;

/// A digest of `vendors` vendors at their worst for size: every hour of
/// every weekday of the 12 weeks has a probe (all 168 heatmap cells filed
/// and titled), every probe answered, with medians spread over the colour
/// bands and counts in two digits.
fn worst_case_digest(vendors: usize) -> Digest {
    use crate::kit::digest_fixture::reading_row;
    use jiff::{SignedDuration, Timestamp};
    use std::sync::Arc;
    use support_probe::model::{ProbeState, Window};

    let text = crate::kit::config::business_vendors(vendors);
    let config = support_probe::config::parse_str(&text, Path::new("worst.toml"))
        .unwrap()
        .config;
    let now: Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
    let week = digest::last_complete_week(now, &config.report.zone).unwrap();
    let (from, until) = digest::row_span(&config, week).unwrap();
    let mut rows = Vec::new();
    for v in 0..vendors {
        let vendor: Arc<str> = format!("vendor-{v:02}").into();
        // Two probes an hour, 17 and 43 minutes past, over the whole span.
        let mut filed = from + SignedDuration::from_mins(17);
        let mut i = 0i64;
        while filed < until {
            // 2 minutes to about 2 days: every colour band, long medians.
            let secs = 120 + (i * 7919 + v as i64 * 104_729) % (50 * 3600);
            rows.push(reading_row(
                &vendor,
                ProbeState::Answered,
                filed,
                Window::BusinessHours,
                Some(filed + SignedDuration::from_secs(secs)),
                None,
            ));
            filed += SignedDuration::from_mins(if i % 2 == 0 { 26 } else { 34 });
            i += 1;
        }
    }
    rows.sort_by_key(|r| r.filed_at);
    digest::compose_rows(&rows, &config, week, now, &OwnSide::default()).unwrap()
}

/// The most vendors whose worst case fits under [`GMAIL_BUDGET`] (the
/// docs/reports.md says so). Eight do not: each worst-case vendor is about 29 KB, of
/// which its 168 titled heatmap cells are 16 KB.
const WORST_CASE_VENDORS_UNCLIPPED: usize = 3;

#[test]
fn the_worst_case_digest_stays_under_gmails_clipping_up_to_three_vendors() {
    let d = worst_case_digest(WORST_CASE_VENDORS_UNCLIPPED);
    // The worst case really is one: every cell of every heatmap filed and
    // answered, so every cell carries its colour and its title.
    for v in &d.views {
        assert!(
            v.coverage
                .cells
                .iter()
                .flatten()
                .all(|c| c.filed >= 2 && c.answered == c.filed),
            "{} has a cell not filed or not answered",
            v.vendor
        );
    }
    let html = render::html(&d);
    std::fs::write(artifacts().join("digest-worst-case.html"), &html).unwrap();
    assert_eq!(
        html.matches(" title=\"").count(),
        WORST_CASE_VENDORS_UNCLIPPED * 168,
        "one title per heatmap cell"
    );
    assert!(
        html.len() < GMAIL_BUDGET,
        "the worst-case digest of {WORST_CASE_VENDORS_UNCLIPPED} vendors is {} bytes, over Gmail's {GMAIL_BUDGET}",
        html.len()
    );
    // When Gmail clips, what it shows first: the heatmaps come before the
    // vendors' tables.
    let coverage = html.find("id=\"coverage\"").unwrap();
    assert!(coverage < html.find(">WINDOW</th>").unwrap());
    // What one more vendor costs: pinned so that growth shows up here.
    let more = render::html(&worst_case_digest(WORST_CASE_VENDORS_UNCLIPPED + 1)).len();
    let per_vendor = more - html.len();
    println!(
        "worst case: {} bytes for {WORST_CASE_VENDORS_UNCLIPPED} vendors, {per_vendor} per vendor",
        html.len()
    );
    assert!(per_vendor < 30_000, "{per_vendor} bytes per vendor");
    assert!(
        more >= GMAIL_BUDGET,
        "one more vendor fits: update docs/reports.md's N"
    );
}
