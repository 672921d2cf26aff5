//! A/B subject tests and personalisation, end to end in dry run: the mock CRM's virtual
//! subscribers split into a test group and a remainder, the variants sent, the winner chosen
//! from the mock's open rates and sent to the rest; a segmented, personalised send captured
//! per variant with nothing leaving for a real host.

use crate::both_backends;
use crate::helpers::TestApp;
use halcytone_audience::{Assignment, split};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

/// The mock CRM's active, opted-in subscribers (docs/api-mocks.md: subscriber i is active
/// unless i % 10 == 9, opted in unless i % 7 == 6), in list order, kept by `keep`.
fn eligible(keep: impl Fn(u64) -> bool) -> Vec<String> {
    (0..1000u64)
        .filter(|i| i % 10 != 9 && i % 7 != 6 && keep(*i))
        .map(|i| format!("sub_{i:04}"))
        .collect()
}

/// Recipients captured by the mock CRM, by subject: (email, merge_vars) in capture order.
async fn by_subject(app: &TestApp) -> BTreeMap<String, Vec<(String, Value)>> {
    let mut out: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    for c in app.captures(&app.crm, "email").await {
        let subject = c["request"]["subject"].as_str().unwrap_or("").to_string();
        for r in c["request"]["recipients"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            out.entry(subject.clone()).or_default().push((
                r["email"].as_str().unwrap_or("").to_string(),
                r["merge_vars"].clone(),
            ));
        }
    }
    out
}

fn number_of(email: &str) -> u64 {
    email
        .trim_start_matches("subscriber")
        .trim_end_matches("@example.com")
        .parse()
        .unwrap()
}

fn id_of(email: &str) -> String {
    format!("sub_{:04}", number_of(email))
}

async fn finish_test(app: &TestApp, sync: &Value) -> Value {
    let job = app.wait_job(sync["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let id = sync["ab_test"]["ab_test_id"].as_str().unwrap().to_string();
    let t = app.get_as_reader(&format!("/api/v2/ab-tests/{id}")).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);
    let rest = t.body["remainder_job_id"].as_str().unwrap().to_string();
    let job = app.wait_job(&rest).await;
    assert_eq!(job["status"], "completed", "{job}");
    app.get_as_reader(&format!("/api/v2/ab-tests/{id}"))
        .await
        .body
}

both_backends!(
    an_ab_test_sends_the_winner_by_open_rate_to_the_rest,
    |app: TestApp| async move {
        // Bad input names the field.
        for (body, field) in [
            (json!({"subjects": ["Only one"]}), "ab_test.subjects"),
            (
                json!({"subjects": ["Same", "same "]}),
                "ab_test.subjects[1]",
            ),
            (json!({"subjects": ["A", ""]}), "ab_test.subjects[1]"),
            (
                json!({"subjects": ["A", "B"], "test_fraction": 1.5}),
                "ab_test.test_fraction",
            ),
            (
                json!({"subjects": ["A", "B"], "test_fraction": 0}),
                "ab_test.test_fraction",
            ),
            (
                json!({"subjects": ["A", "B"], "decide_after_minutes": 20000}),
                "ab_test.decide_after_minutes",
            ),
        ] {
            let a = app
                .sync(&json!({"channels": ["email"], "ab_test": body}).to_string())
                .await;
            a.assert_invalid_field(field, &body);
        }
        let a = app
            .sync(
                &json!({"channels": ["website"], "ab_test": {"subjects": ["A", "B"]}}).to_string(),
            )
            .await;
        assert_eq!(a.body["error"]["field"], "ab_test", "{}", a.text);
        let a = app
            .sync(
                &json!({"channels": ["email"], "ab_test": {"subjects": ["A", "B"], "winner": 1}})
                    .to_string(),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert!(
            app.store.ab_tests(10).await.unwrap().is_empty(),
            "nothing stored"
        );

        let subjects = ["Calm in five minutes", "What we built for your breath"];
        let s = app
            .sync(&json!({
                "channels": ["email"],
                "ab_test": {"subjects": subjects, "test_fraction": 0.3, "decide_after_minutes": 0},
            }).to_string())
            .await;
        assert_eq!(s.status, StatusCode::ACCEPTED, "{}", s.text);
        assert_eq!(s.body["ab_test"]["status"], "testing", "{}", s.text);
        let t = finish_test(&app, &s.body).await;
        assert_eq!(t["status"], "completed", "{t}");
        let test_id = t["ab_test_id"].as_str().unwrap().to_string();

        // The split: exactly the fraction of the list, the variants within one of each other.
        let everyone = eligible(|_| true);
        let n = everyone.len();
        let sizes: Vec<usize> = t["test_group_sizes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let tested: usize = sizes.iter().sum();
        let share = tested as f64 / n as f64;
        assert!((share - 0.3).abs() <= 0.02, "{tested} of {n}");
        assert!(sizes[0].abs_diff(sizes[1]) <= 1, "{sizes:?}");

        // The winner is the variant with the higher open rate in the mock CRM's analytics.
        let mut rates = Vec::new();
        for v in t["results"]["variants"].as_array().unwrap() {
            let campaign = v["campaign_id"].as_str().unwrap();
            let a = app
                .mock_json(&app.crm, &format!("api/v1/campaigns/{campaign}/analytics"))
                .await;
            assert_eq!(a["sent"], v["recipients"], "{a} {v}");
            rates.push(a["opened"].as_f64().unwrap() / a["delivered"].as_f64().unwrap());
            // The figures are stored and shown by the analytics routes.
            let stored = app
                .get_as_reader(&format!("/api/v2/analytics/campaigns/{campaign}"))
                .await;
            assert_eq!(
                stored.body["figures"]["opened"], a["opened"],
                "{}",
                stored.text
            );
            assert_eq!(stored.body["ab_test_id"], test_id.as_str());
        }
        // The mock's figures depend on the campaign ids, which are new every run: the rates
        // can tie, and a tie goes to the first variant.
        let best = if rates[1] > rates[0] { 1 } else { 0 };
        assert_eq!(t["winner"]["variant"], best, "{t} {rates:?}");

        // Who got what: each test member its variant, everyone else only the winner.
        let got = by_subject(&app).await;
        let loser = 1 - best;
        assert_eq!(
            got[subjects[loser]].len(),
            sizes[loser],
            "the loser went to its test group only"
        );
        assert_eq!(got[subjects[best]].len(), n - sizes[loser], "{t}");
        assert_eq!(got.len(), 2, "no other subject: {:?}", got.keys());
        let all: Vec<&String> = got.values().flatten().map(|(e, _)| e).collect();
        assert_eq!(all.len(), n, "one message per subscriber");
        assert_eq!(all.iter().collect::<HashSet<_>>().len(), n, "nobody twice");

        // The same ids get the same variant every time: the split recomputed from the ids
        // matches what was sent, twice.
        let ids: Vec<&str> = everyone.iter().map(String::as_str).collect();
        let first = split(&test_id, &ids, 2, 0.3);
        assert_eq!(first, split(&test_id, &ids, 2, 0.3));
        let variant_of: BTreeMap<&str, Assignment> =
            ids.iter().copied().zip(first.iter().copied()).collect();
        for (v, subject) in subjects.iter().enumerate() {
            if v == best {
                continue;
            }
            for (email, _) in &got[*subject] {
                assert_eq!(variant_of[id_of(email).as_str()], Assignment::Test(v));
            }
        }
        let remainder = first
            .iter()
            .filter(|a| **a == Assignment::Remainder)
            .count();
        assert_eq!(t["results"]["remainder"]["recipients"], remainder, "{t}");

        // Email analytics list every campaign: two variants and the remainder.
        let e = app.get_as_reader("/api/v2/analytics/email").await;
        assert_eq!(e.status, StatusCode::OK, "{}", e.text);
        assert_eq!(e.body["totals"]["campaigns"], 3, "{}", e.text);
        assert_eq!(e.body["totals"]["recipients"], n, "{}", e.text);
        let rest_campaign = t["results"]["remainder"]["campaign_id"].as_str().unwrap();
        let r = app
            .post_as_writer(&format!(
                "/api/v2/analytics/campaigns/{rest_campaign}/refresh"
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["figures"]["sent"], remainder, "{}", r.text);
        let missing = app
            .get_as_reader("/api/v2/analytics/campaigns/halcytone-nope")
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let list = app.get_as_reader("/api/v2/ab-tests").await;
        assert_eq!(list.body["total"], 1, "{}", list.text);
    }
);

both_backends!(
    a_segmented_personalized_ab_dry_run_captures_each_variant,
    |app: TestApp| async move {
        let w = app.write_key.clone();
        let bad = app
            .post_json("/api/v2/segments", Some(&w), &json!({"name": "X", "rule": "status = \"active\"", "cta_url": "javascript:alert(1)"}))
            .await;
        assert_eq!(bad.body["error"]["field"], "cta_url", "{}", bad.text);
        let intro = "A note for the clinicians among you: this month's changes in brief.";
        let seg = app
            .post_json("/api/v2/segments", Some(&w), &json!({
                "name": "Clinicians", "rule": "tags contains \"clinician\"",
                "intro": intro, "cta_text": "Read the clinical notes", "cta_url": "https://halcytone.com/clinicians",
            }))
            .await;
        assert_eq!(seg.status, StatusCode::CREATED, "{}", seg.text);
        let seg_id = seg.body["segment_id"].as_str().unwrap().to_string();

        // The preview for one subscriber: their name, the segment's intro and link.
        let p = app
            .get_as_reader(&format!(
                "/api/v2/newsletter/personalized-preview?segment_id={seg_id}&subscriber_id=sub_0005"
            ))
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
        let html = p.body["html_content"].as_str().unwrap();
        assert!(html.contains("Subscriber5"), "greeted by name");
        assert!(
            html.contains("A note for the clinicians among you"),
            "segment intro"
        );
        assert!(
            html.contains("Read the clinical notes"),
            "segment call to action"
        );
        assert!(
            html.replace("&#x2f;", "/")
                .contains("href=\"https://halcytone.com/clinicians\""),
            "segment link"
        );
        assert!(!html.contains("*|FIRST_NAME|*"));
        assert_eq!(p.body["subscriber"]["in_segment"], true);
        assert_eq!(
            p.body["merge_tags_used"],
            json!(["FIRST_NAME"]),
            "{}",
            p.text
        );
        let p = app
            .get_as_reader("/api/v2/newsletter/personalized-preview?subscriber_id=sub_nope")
            .await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{}", p.text);

        let subjects = [
            "Your clinical update",
            "New in Breathscape for clinicians",
            "Three things for your practice",
        ];
        let s = app
            .sync(&json!({
                "channels": ["email", "social_twitter"],
                "segment_id": seg_id, "personalize": true, "first_name_fallback": "friend",
                "ab_test": {"subjects": subjects, "test_fraction": 0.5, "decide_after_minutes": 0},
            }).to_string())
            .await;
        assert_eq!(s.status, StatusCode::ACCEPTED, "{}", s.text);
        let t = finish_test(&app, &s.body).await;
        assert_eq!(t["status"], "completed", "{t}");
        let test_id = t["ab_test_id"].as_str().unwrap();

        // Expected messages per variant, from the segment and the split.
        let members = eligible(|i| i % 5 == 0);
        let ids: Vec<&str> = members.iter().map(String::as_str).collect();
        let plan = split(test_id, &ids, 3, 0.5);
        let count = |a: Assignment| plan.iter().filter(|x| **x == a).count();
        let winner = t["winner"]["variant"].as_u64().unwrap() as usize;
        let got = by_subject(&app).await;
        for (v, subject) in subjects.iter().enumerate() {
            let mut expected = count(Assignment::Test(v));
            if v == winner {
                expected += count(Assignment::Remainder);
            }
            assert_eq!(
                got.get(*subject).map_or(0, Vec::len),
                expected,
                "variant {v}: {t}"
            );
        }
        assert_eq!(got.values().map(Vec::len).sum::<usize>(), members.len());

        // Personalised: merge tags in the content, each recipient's first name in merge_vars.
        let captured = app.captures(&app.crm, "email").await;
        let one = &captured[0];
        let html = one["request"]["html_content"].as_str().unwrap();
        assert!(html.contains("*|FIRST_NAME|*"), "the CRM fills the tag");
        assert!(html.contains("A note for the clinicians among you"));
        let (email, vars) = &got[subjects[winner]][0];
        assert_eq!(
            vars["FIRST_NAME"],
            format!("Subscriber{}", number_of(email))
        );
        // The mock CRM renders a recipient's copy as it would send it.
        let id = one["id"].as_str().unwrap();
        let to = one["request"]["recipients"][0]["email"].as_str().unwrap();
        let r = app
            .mock_json(
                &app.crm,
                &format!("api/v1/email/{id}/render?recipient={to}"),
            )
            .await;
        let rendered = r["html_content"].as_str().unwrap();
        assert!(
            !rendered.contains("*|FIRST_NAME|*"),
            "{}",
            &rendered[..200.min(rendered.len())]
        );
        assert!(rendered.contains(&format!("Subscriber{}", number_of(to))));
        assert_eq!(r["unfilled_tags"], json!([]));

        // The social post went to the mock Platform; nothing tried to leave for a real host.
        assert_eq!(app.captures(&app.platform, "social").await.len(), 1);
        app.assert_metric("\nhalcytone_egress_blocked_total 0")
            .await;
    }
);
