//! The reply evidence, trait by trait in several languages, on the
//! human-answer fixtures of `tests/fixtures/lang/`, and on degenerate input.

use std::path::Path;

use super::*;
use crate::classify::{MessageFacts, parse};
use crate::model::same_language;

/// A reply with `body` from `from_name`.
fn reply(body: &str, from_name: Option<&str>) -> MessageFacts {
    MessageFacts {
        body_text: body.to_string(),
        from_name: from_name.map(str::to_string),
        from_addr: Some("agent@vendor.test".into()),
        ..MessageFacts::default()
    }
}

fn judge_as(body: &str, from: Option<&str>, persona: &str, detail: Option<&str>) -> Quality {
    judge(
        &reply(body, from),
        &Judge {
            persona_name: persona,
            vendor: "Acme",
            detail,
            expect: &[],
            others: &[],
        },
    )
}

fn value(t: &Option<Trait>) -> bool {
    t.as_ref().expect("trait judged").value
}

fn rule(t: &Option<Trait>) -> &str {
    &t.as_ref().expect("trait judged").rule
}

#[test]
fn the_reply_tables_load_and_the_chinese_scripts_are_disjoint() {
    assert!(data_problems().is_empty(), "{:#?}", data_problems());
    let scripts = &phrases::PHRASES.scripts;
    let cn = scripts
        .iter()
        .find(|(t, _)| t == "zh-CN")
        .expect("zh-CN chars");
    let tw = scripts
        .iter()
        .find(|(t, _)| t == "zh-TW")
        .expect("zh-TW chars");
    assert!(cn.1.len() > 100 && tw.1.len() > 100);
    let shared: Vec<&char> = cn.1.iter().filter(|c| tw.1.contains(c)).collect();
    assert!(shared.is_empty(), "in both: {shared:?}");
}

#[test]
fn personal_in_english() {
    let q = judge_as(
        "Hi Dana,\n\nThe purge reached every edge now.\n\nBest regards,\nRyan Patel\nSenior Support Engineer\n",
        Some("Acme Support"),
        "Dana Lee",
        None,
    );
    assert!(value(&q.personal), "{}", rule(&q.personal));
    assert!(
        rule(&q.personal).contains("Ryan Patel"),
        "{}",
        rule(&q.personal)
    );
    let q = judge_as(
        "Hello,\n\nThe purge reached every edge now.\n\nKind regards,\nThe Acme Support Team\n",
        Some("Acme Support"),
        "Dana Lee",
        None,
    );
    assert!(!value(&q.personal));
    assert!(
        rule(&q.personal).contains("does not address"),
        "{}",
        rule(&q.personal)
    );
    assert!(rule(&q.personal).contains("team"), "{}", rule(&q.personal));
    // Named, but signed by a team only.
    let q = judge_as(
        "Dear Dana,\n\nThe purge reached every edge now.\n\nThanks,\nCustomer Care\n",
        Some("Acme Help Desk"),
        "Dana Lee",
        None,
    );
    assert!(!value(&q.personal), "{}", rule(&q.personal));
    // The new text stops at the sign-off: the signature is not counted.
    assert_eq!(q.new_words, 8); // "Dear Dana," and six words
}

#[test]
fn personal_in_chinese() {
    let q = judge_as(
        "王先生您好，\n\n新加坡节点的缓存规则已经修复，请再刷新一次。\n\n此致\n敬礼\n张敏\n云帆CDN 技术支持部\n",
        Some("support"),
        "王伟",
        None,
    );
    assert!(value(&q.personal), "{}", rule(&q.personal));
    assert!(rule(&q.personal).contains("张敏"), "{}", rule(&q.personal));
    let q = judge_as(
        "您好，\n\n新加坡节点的缓存规则已经修复，请再刷新一次。\n\n云帆CDN客服团队\n",
        Some("云帆客服"),
        "王伟",
        None,
    );
    assert!(!value(&q.personal), "{}", rule(&q.personal));
}

#[test]
fn personal_in_japanese() {
    let q = judge_as(
        "李様\n\nお問い合わせの件、シンガポールのキャッシュ設定を修正いたしました。\n\nよろしくお願いいたします。\n\nカスタマーサポート 佐藤\n",
        None,
        "李 伟",
        None,
    );
    assert!(value(&q.personal), "{}", rule(&q.personal));
    assert!(rule(&q.personal).contains("佐藤"), "{}", rule(&q.personal));
    let q = judge_as(
        "お客様\n\nシンガポールのキャッシュ設定を修正いたしました。\n\nよろしくお願いいたします。\nサポートセンター\n",
        Some("Acme サポートチーム"),
        "李 伟",
        None,
    );
    assert!(!value(&q.personal), "{}", rule(&q.personal));
}

#[test]
fn personal_in_spanish_and_korean() {
    let q = judge_as(
        "Hola Lucía:\n\nYa corregimos la regla de caché del nodo de Singapur.\n\nSaludos cordiales,\nMarta Gómez\n",
        None,
        "Lucía Fernández",
        None,
    );
    assert!(value(&q.personal), "{}", rule(&q.personal));
    let q = judge_as(
        "Hola:\n\nYa corregimos la regla de caché del nodo de Singapur.\n\nAtentamente,\nEquipo de Soporte\n",
        None,
        "Lucía Fernández",
        None,
    );
    assert!(!value(&q.personal), "{}", rule(&q.personal));
    let q = judge_as(
        "김민수 고객님, 안녕하세요.\n\n싱가포르 노드의 캐시 규칙을 수정했습니다.\n\n감사합니다.\n이지은 드림\n",
        None,
        "김민수",
        None,
    );
    assert!(value(&q.personal), "{}", rule(&q.personal));
    let q = judge_as(
        "안녕하세요.\n\n싱가포르 노드의 캐시 규칙을 수정했습니다.\n\n감사합니다.\n고객지원팀\n",
        None,
        "김민수",
        None,
    );
    assert!(!value(&q.personal), "{}", rule(&q.personal));
}

#[test]
fn specific_both_ways() {
    let detail = Some("stream key ending 4F7Q");
    for (body, want) in [
        (
            "Hi,\n\nthe stream key ending 4f7q was revoked; a new one is live.\n",
            true,
        ),
        ("Hi,\n\nI reset the key 4F7Q for you.\n", true),
        ("您好，\n\n尾号 4F7Q 的推流密钥已重置。\n", true),
        ("お客様\n\nキー４Ｆ７Ｑをリセットしました。\n", true),
        ("Hola:\n\nhemos restablecido la clave 4F7Q.\n", true),
        ("Hi,\n\nwe reset your stream key.\n", false),
        ("Hi,\n\nkey 4F7QX reset.\n", false),
        ("您好，\n\n推流密钥已重置。\n", false),
        ("Hola:\n\nhemos restablecido la clave.\n", false),
    ] {
        let q = judge_as(body, None, "Dana", detail);
        assert_eq!(value(&q.specific), want, "{body}: {}", rule(&q.specific));
    }
    let q = judge_as(
        "Hi,\n\nedge node SG-3 is drained.\n",
        None,
        "Dana",
        Some("edge node sg-3"),
    );
    assert!(value(&q.specific), "{}", rule(&q.specific));
    assert!(judge_as("Hi, done.", None, "Dana", None).specific.is_none());
}

#[test]
fn asks_back_both_ways() {
    for (body, want) in [
        (
            "Hi Dana,\n\nCould you please send us the X-Cache header of the response?\n",
            true,
        ),
        (
            "Hi Dana,\n\nWhich zone is this about? We see several.\n",
            true,
        ),
        (
            "Hi Dana,\n\nI fixed the rule. Can you check again?\n\nRyan\n",
            false,
        ),
        (
            "Hi Dana,\n\nI fixed the rule at https://acme.test/x?id=1 and re-ran the purge.\n",
            false,
        ),
        ("您好，\n\n请提供一下响应头里的 X-Cache。\n", true),
        ("您好，\n\n问题在哪个节点出现？\n", true),
        ("您好，\n\n缓存规则已经修复。\n", false),
        (
            "李様\n\n対象のゾーン名を教えていただけますでしょうか。\n",
            true,
        ),
        ("李様\n\n設定を修正いたしました。\n", false),
        ("Hola:\n\n¿Nos podría indicar la zona afectada?\n", true),
        ("Hola:\n\nPor favor, envíenos la cabecera X-Cache.\n", true),
        ("Hola:\n\nYa está corregido. ¿Le ha servido?\n", false),
        (
            "Hallo,\n\nkönnten Sie uns bitte die Zone mitteilen.\n",
            true,
        ),
        ("Hallo,\n\ndas Problem ist behoben.\n", false),
    ] {
        let q = judge_as(body, None, "Dana", None);
        assert_eq!(value(&q.asks_back), want, "{body}: {}", rule(&q.asks_back));
    }
}

#[test]
fn answers_by_expect() {
    let expect = vec![r"status\.acme\.test".to_string()];
    let j = |body: &str, expect: &[String]| {
        judge(
            &reply(body, None),
            &Judge {
                persona_name: "Dana",
                vendor: "Acme",
                detail: None,
                expect,
                others: &[],
            },
        )
    };
    assert!(value(
        &j("We post incidents on https://status.acme.test.", &expect).answers
    ));
    assert!(value(
        &j("我们在 status.acme.test 发布故障通知。", &expect).answers
    ));
    let q = j(
        "We post incidents on Twitter.\n\n--\nRyan\nhttps://status.acme.test\n",
        &expect,
    );
    assert!(
        !value(&q.answers),
        "the signature is not the answer: {}",
        rule(&q.answers)
    );
    assert!(j("anything", &[]).answers.is_none());
    assert!(j("anything", &["(".to_string()]).answers.is_none());
}

const MACRO: &str = "Hi {name},\n\nThank you for reaching out about ticket {n}. We have escalated your \
    request to our engineering team, who will investigate the caching behaviour you describe and \
    update you as soon as they have findings. In the meantime, purging the affected paths again may \
    help.\n\nBest regards,\n{agent}\nAcme Support\n";

#[test]
fn templated_same_macro_other_name_and_ticket() {
    let a = MACRO
        .replace("{name}", "Dana")
        .replace("{n}", "#48213 (SP-0123456789)")
        .replace("{agent}", "Ryan");
    let b = MACRO
        .replace("{name}", "王伟")
        .replace("{n}", "#50007 (SP-7ZZZZZZZZZ)")
        .replace("{agent}", "Maria");
    let qa = judge_as(&a, None, "Dana Lee", None);
    assert!(qa.templated.is_none(), "nothing to compare with yet");
    assert_eq!(qa.signature.len(), HASHES);
    let others = vec![("01JOTHER".to_string(), qa.signature.clone())];
    let qb = judge(
        &reply(&b, None),
        &Judge {
            persona_name: "王伟",
            vendor: "Acme",
            detail: None,
            expect: &[],
            others: &others,
        },
    );
    assert!(similarity(&qa.signature, &qb.signature) >= TEMPLATED_AT);
    assert!(value(&qb.templated), "{}", rule(&qb.templated));
    assert!(rule(&qb.templated).contains("01JOTHER"));
    let different = "Hi Dana,\n\nFound it: the Singapore edge had a stale cache rule, so the purge \
        never reached it. I fixed the rule and re-ran the purge of the assets folder. The new \
        build is served everywhere now.\n\nRyan\n";
    let qc = judge(
        &reply(different, None),
        &Judge {
            persona_name: "Dana Lee",
            vendor: "Acme",
            detail: None,
            expect: &[],
            others: &others,
        },
    );
    assert!(!value(&qc.templated), "{}", rule(&qc.templated));
    assert!(similarity(&qa.signature, &qc.signature) < 0.3);
}

#[test]
fn templated_in_chinese_uses_characters() {
    let m = "{name}您好，\n\n感谢您的耐心等待。我们已将您的工单转交给工程团队，他们会尽快调查您描述的缓存问题，并在有结果后第一时间通知您。\n\n客服团队\n";
    let a = signature(&m.replace("{name}", "王先生"));
    let b = signature(&m.replace("{name}", "李女士"));
    let c = signature(
        "您好，新加坡节点的缓存规则有误，清除缓存没有生效。我已经修复规则并重新清除了缓存，现在所有节点都返回新版本。",
    );
    assert_eq!(a.len(), HASHES);
    assert!(similarity(&a, &b) >= TEMPLATED_AT, "{}", similarity(&a, &b));
    assert!(similarity(&a, &c) < 0.3, "{}", similarity(&a, &c));
}

#[test]
fn short_or_empty_text_panics_nowhere() {
    for body in [
        "",
        " ",
        "\n\n",
        "--",
        "Thanks",
        "?",
        "。",
        "Hi Dana,",
        "-- \nRyan",
    ] {
        let q = judge(
            &reply(body, Some("")),
            &Judge {
                persona_name: "",
                vendor: "",
                detail: Some(""),
                expect: &["x".to_string()],
                others: &[("p".into(), vec![])],
            },
        );
        assert!(q.signature.is_empty(), "{body:?}");
        assert!(q.language.is_none(), "{body:?}");
        assert!(q.templated.is_none());
        assert!(!value(&q.personal));
    }
    assert_eq!(similarity(&[], &[]), 0.0);
    assert_eq!(similarity(&[1, 2], &[1]), 0.0);
}

/// The human answers of `tests/fixtures/lang/<lang>/human--*.eml`, parsed.
pub(crate) fn human_fixtures() -> Vec<(String, String, MessageFacts)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang");
    let mut out = Vec::new();
    let mut langs: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .collect();
    langs.sort_by_key(|e| e.file_name());
    for l in langs {
        let lang = l.file_name().to_string_lossy().into_owned();
        let mut files: Vec<_> = std::fs::read_dir(l.path())
            .expect("lang dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("human--"))
            .collect();
        files.sort_by_key(|e| e.file_name());
        for f in files {
            let raw = std::fs::read(f.path()).expect("fixture");
            out.push((
                lang.clone(),
                f.file_name().to_string_lossy().into_owned(),
                parse(&raw),
            ));
        }
    }
    out
}

#[test]
fn language_is_right_on_every_human_fixture() {
    let fixtures = human_fixtures();
    assert!(fixtures.len() >= 40, "{}", fixtures.len());
    let mut wrong = Vec::new();
    for (lang, file, facts) in &fixtures {
        let q = judge(
            facts,
            &Judge {
                persona_name: "Dana Lee",
                vendor: "",
                detail: None,
                expect: &[],
                others: &[],
            },
        );
        match &q.language {
            Some(d)
                if same_language(lang, &d.tag) && (!lang.starts_with("zh") || d.tag == *lang) => {}
            other => wrong.push(format!("{lang}/{file}: {other:?} ({} words)", q.new_words)),
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn personal_on_real_fixtures() {
    let fixtures = human_fixtures();
    let get = |lang: &str, file: &str| {
        fixtures
            .iter()
            .find(|(l, f, _)| l == lang && f == file)
            .map(|(_, _, facts)| facts)
            .expect("fixture")
    };
    let j = Judge {
        persona_name: "Dana Lee",
        vendor: "",
        detail: Some("ETag 5f1c-a"),
        expect: &[],
        others: &[],
    };
    // "Hi Dana," ... "Ryan" (no sign-off: the trailing name is the signature).
    let q = judge(get("en", "human--gmail-wrote.eml"), &j);
    assert!(value(&q.personal), "{}", rule(&q.personal));
    assert!(
        rule(&q.personal).contains("\"Ryan\""),
        "{}",
        rule(&q.personal)
    );
    assert!(!value(&q.asks_back), "{}", rule(&q.asks_back));
    // "Dana 您好" ... "王磊" above the department and a phone number.
    let q = judge(get("zh-CN", "human--foxmail-xiedao.eml"), &j);
    assert!(value(&q.personal), "{}", rule(&q.personal));
    assert!(rule(&q.personal).contains("王磊"), "{}", rule(&q.personal));
    assert!(value(&q.specific), "{}", rule(&q.specific));
    // "Дана" is not "Dana": the name in another script does not count.
    let q = judge(get("ru", "human--thunderbird-pishet.eml"), &j);
    assert!(
        rule(&q.personal).contains("Павел Морозов"),
        "{}",
        rule(&q.personal)
    );
}

#[test]
fn a_short_plain_answer_gets_its_language_from_the_frequent_words() {
    // whatlang alone gives English a margin of about 0.1 here.
    let q = judge_as(
        "Hi Dana,\r\n\r\nyou will find outages and maintenance announcements at \
         https://status.example.com. Since that answers your question, I am resolving the \
         ticket.\r\n\r\nAll the best,\r\nNiall\r\n",
        None,
        "Dana Probe",
        None,
    );
    let lang = q.language.expect("a language");
    assert_eq!(lang.tag, "en");
    assert!(
        lang.confidence >= super::language::MIN_CONFIDENCE,
        "{lang:?}"
    );
    // Too few frequent words and a hesitant detector: no language, not a guess.
    let q = judge_as(
        "Hi Dana,\r\n\r\nok, done.\r\n\r\nNiall\r\n",
        None,
        "Dana Probe",
        None,
    );
    assert_eq!(q.language, None);
}
