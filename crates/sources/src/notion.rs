//! Notion: query a database (all pages, newest first) and write its pages as a living
//! document in the Markdown authoring format.

use serde_json::{Value, json};

use crate::error::{SourceError, snippet, status_and_text};
use crate::{SourceKind, SourceSettings};

const KIND: SourceKind = SourceKind::Notion;
/// Result pages followed before stopping (100 database pages each).
pub const MAX_RESULT_PAGES: usize = 50;
/// The document title when the database has none (or it cannot be read).
pub const DEFAULT_TITLE: &str = "Notion living document";

pub use halcytone_content::Category;

/// The section heading a category's items go under, in the authoring format.
fn heading(c: Category) -> &'static str {
    match c {
        Category::Breathscape => "## [Breathscape] Recent Updates",
        Category::Hardware => "## [Hardware] Development Progress",
        Category::Tips => "## [Tips] Breathing Techniques",
        Category::Vision => "## [Vision] Company Mission",
    }
}

/// The original's rule: substring match on the lowercased Category (or Type) value;
/// anything else, including the default "general", is Breathscape.
pub fn category_of(value: &str) -> Category {
    let v = value.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| v.contains(w));
    if has(&["breathscape", "app", "software"]) {
        Category::Breathscape
    } else if has(&["hardware", "device", "sensor"]) {
        Category::Hardware
    } else if has(&["tip", "wellness", "breathing"]) {
        Category::Tips
    } else if has(&["vision", "mission", "about"]) {
        Category::Vision
    } else {
        Category::Breathscape
    }
}

/// One database page as a living-document item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotionItem {
    pub title: String,
    pub content: String,
    pub category: Category,
    /// `YYYY-MM-DD`, from `Date` or else the page's creation time.
    pub date: Option<String>,
    pub featured: Option<bool>,
    pub priority: Option<u8>,
    pub content_type: Option<String>,
}

/// The plain text of a property value of any common type.
fn property_text(prop: &Value) -> Option<String> {
    let kind = prop.get("type").and_then(Value::as_str)?;
    let value = prop.get(kind)?;
    let text = match kind {
        "title" | "rich_text" => value
            .as_array()?
            .iter()
            .filter_map(|t| {
                t.get("plain_text")
                    .or_else(|| t.pointer("/text/content"))
                    .and_then(Value::as_str)
            })
            .collect::<String>(),
        "select" | "status" => value.get("name")?.as_str()?.to_string(),
        "multi_select" => value
            .as_array()?
            .iter()
            .filter_map(|o| o.get("name").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(", "),
        "number" => match value {
            Value::Number(n) => n.to_string(),
            _ => return None,
        },
        "url" | "email" | "phone_number" => value.as_str()?.to_string(),
        "formula" => match value.get("type").and_then(Value::as_str)? {
            "string" => value.get("string")?.as_str()?.to_string(),
            "number" => value.get("number")?.as_number()?.to_string(),
            _ => return None,
        },
        _ => return None,
    };
    Some(text)
}

/// The text of the first of `names` that the page has with a non-blank value.
fn first_text(props: &Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        props
            .get(*n)
            .and_then(property_text)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    })
}

/// Maps a database page (`{"object":"page","created_time":…,"properties":{…}}`) to an item,
/// or `None` when it has neither title nor content (or is archived).
pub fn page_to_item(page: &Value) -> Option<NotionItem> {
    if page.get("archived").and_then(Value::as_bool) == Some(true)
        || page.get("in_trash").and_then(Value::as_bool) == Some(true)
    {
        return None;
    }
    let props = page.get("properties")?;
    let title = first_text(props, &["Title", "Name"]);
    let content = first_text(props, &["Content", "Description"]);
    if title.is_none() && content.is_none() {
        return None;
    }
    let category = first_text(props, &["Category", "Type"])
        .map(|c| c.to_lowercase())
        .unwrap_or_else(|| "general".into());
    let date = props
        .pointer("/Date/date/start")
        .and_then(Value::as_str)
        .or_else(|| page.get("created_time").and_then(Value::as_str))
        .and_then(day);
    let featured = props
        .get("Featured")
        .and_then(|p| p.get("checkbox"))
        .and_then(Value::as_bool);
    let priority = props
        .get("Priority")
        .and_then(property_text)
        .and_then(|p| p.trim().parse::<f64>().ok())
        .filter(|p| p.fract() == 0.0 && (1.0..=5.0).contains(p))
        .map(|p| p as u8);
    let content_type = first_text(props, &["Content Type"])
        .map(|t| t.to_lowercase())
        .filter(|t| {
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-'))
        });
    Some(NotionItem {
        title: title
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "Untitled".into()),
        content: content.unwrap_or_default(),
        category: category_of(&category),
        date,
        featured,
        priority,
        content_type,
    })
}

/// `2026-11-18` from `2026-11-18` or `2026-11-18T10:00:00.000Z`.
fn day(s: &str) -> Option<String> {
    let d = s.trim().get(..10)?;
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .ok()
        .map(|_| d.to_string())
}

/// Writes items as a living document: `# title`, then one `## [Category] …` section per
/// category that has items, in the order Breathscape, Hardware, Tips, Vision.
pub fn items_to_markdown(title: &str, items: &[NotionItem]) -> String {
    let mut out = format!("# {}\n", title.trim());
    for category in Category::ALL {
        let mut section = items.iter().filter(|i| i.category == category).peekable();
        if section.peek().is_none() {
            continue;
        }
        out.push('\n');
        out.push_str(heading(category));
        out.push('\n');
        for item in section {
            out.push_str("\n### ");
            out.push_str(&item.title);
            out.push('\n');
            let mut flags = Vec::new();
            if let Some(f) = item.featured {
                flags.push(format!("featured: {f}"));
            }
            if let Some(p) = item.priority {
                flags.push(format!("priority: {p}"));
            }
            if let Some(t) = &item.content_type {
                flags.push(format!("type: {t}"));
            }
            if !flags.is_empty() {
                out.push_str(&format!("<!-- {} -->\n", flags.join("; ")));
            }
            if let Some(d) = &item.date {
                out.push_str(&format!("- **Date:** {d}\n"));
            }
            let content = item.content.replace("\r\n", "\n");
            let mut lines = content.trim().lines();
            if let Some(first) = lines.next() {
                out.push_str(&format!("- **Content:** {}\n", first.trim_end()));
                for line in lines {
                    out.push_str(line.trim_end());
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// Queries every page of the database and renders the document.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    settings: &SourceSettings,
    id: &str,
) -> Result<String, SourceError> {
    let key = settings
        .notion_api_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| SourceError::NotConfigured {
            kind: KIND,
            reason: "set NOTION_API_KEY to an integration token that the database is shared with"
                .into(),
        })?;
    let id = if id.is_empty() || id == crate::reference::NOTION_DEFAULT {
        settings
            .notion_database_id
            .as_deref()
            .filter(|d| !d.is_empty())
            .ok_or_else(|| SourceError::NotConfigured {
                kind: KIND,
                reason: "no database id: set NOTION_DATABASE_ID or ask for notion:<database id>"
                    .into(),
            })?
    } else {
        id
    };
    let id = crate::reference::notion_id(id)?;
    let base = settings.notion_base_url.trim_end_matches('/');
    let target = format!("database {id}");

    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for page_no in 0.. {
        if page_no == MAX_RESULT_PAGES {
            tracing::warn!(
                database = %id,
                pages = MAX_RESULT_PAGES,
                "Notion database has more results than we read; the oldest pages are left out"
            );
            break;
        }
        let mut body = json!({
            "sorts": [{"timestamp": "created_time", "direction": "descending"}],
            "page_size": 100
        });
        if let Some(c) = &cursor {
            body["start_cursor"] = json!(c);
        }
        let answer = call(
            client
                .post(format!("{base}/v1/databases/{id}/query"))
                .json(&body),
            key,
            settings,
            &target,
        )
        .await?;
        let results = answer
            .get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| SourceError::Malformed {
                kind: KIND,
                target: target.clone(),
                detail: "the query answer has no results list".into(),
            })?;
        items.extend(results.iter().filter_map(page_to_item));
        let more = answer.get("has_more").and_then(Value::as_bool) == Some(true);
        cursor = answer
            .get("next_cursor")
            .and_then(Value::as_str)
            .map(str::to_string);
        if !more || cursor.is_none() {
            break;
        }
    }

    let title = database_title(client, key, settings, base, &id, &target).await;
    Ok(items_to_markdown(&title, &items))
}

/// The database's own title, or [`DEFAULT_TITLE`] when it has none or cannot be read.
async fn database_title(
    client: &reqwest::Client,
    key: &str,
    settings: &SourceSettings,
    base: &str,
    id: &str,
    target: &str,
) -> String {
    // GET /v1/databases/{id}: {"object":"database","title":[{"plain_text":"…"}],…}
    match call(
        client.get(format!("{base}/v1/databases/{id}")),
        key,
        settings,
        target,
    )
    .await
    {
        Ok(db) => {
            let title: String = db
                .get("title")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.get("plain_text").and_then(Value::as_str))
                .collect();
            let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
            if title.is_empty() {
                DEFAULT_TITLE.into()
            } else {
                title
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, "could not read the Notion database title");
            DEFAULT_TITLE.into()
        }
    }
}

/// Sends a Notion API request and returns its JSON, or Notion's error message.
async fn call(
    request: reqwest::RequestBuilder,
    key: &str,
    settings: &SourceSettings,
    target: &str,
) -> Result<Value, SourceError> {
    let request = request
        .bearer_auth(key)
        .header("Notion-Version", &settings.notion_version);
    let (status, text) = status_and_text(request, KIND, target, settings.timeout).await?;
    let json: Option<Value> = serde_json::from_str(&text).ok();
    if !status.is_success() {
        // {"object":"error","status":401,"code":"unauthorized","message":"API token is invalid."}
        let detail = json
            .as_ref()
            .and_then(|j| j.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| snippet(&text));
        return Err(SourceError::Upstream {
            kind: KIND,
            status: status.as_u16(),
            target: target.to_string(),
            detail,
        });
    }
    json.ok_or_else(|| SourceError::Malformed {
        kind: KIND,
        target: target.to_string(),
        detail: "the answer is not JSON".into(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn rich(kind: &str, text: &str) -> Value {
        json!({"id": "x", "type": kind, kind: [{
            "type": "text",
            "text": {"content": text, "link": null},
            "annotations": {"bold": false},
            "plain_text": text,
            "href": null
        }]})
    }

    fn select(name: &str) -> Value {
        json!({"id": "s", "type": "select", "select": {"id": "o", "name": name, "color": "blue"}})
    }

    fn page(props: Value) -> Value {
        json!({
            "object": "page",
            "id": "59833787-2cf9-4fdf-8782-e53db20768a5",
            "created_time": "2026-11-02T09:15:00.000Z",
            "last_edited_time": "2026-11-03T10:00:00.000Z",
            "archived": false,
            "properties": props
        })
    }

    #[test]
    fn categories_follow_the_original_substring_rules() {
        let cases = [
            ("Breathscape", Category::Breathscape),
            ("mobile app", Category::Breathscape),
            ("Software", Category::Breathscape),
            ("Hardware", Category::Hardware),
            ("device news", Category::Hardware),
            ("SENSOR", Category::Hardware),
            ("Tips", Category::Tips),
            ("wellness", Category::Tips),
            ("Breathing technique", Category::Tips),
            ("Vision", Category::Vision),
            ("Our mission", Category::Vision),
            ("about us", Category::Vision),
            ("general", Category::Breathscape),
            ("", Category::Breathscape),
            // Order matters: "app" is checked before "tip".
            ("app tips", Category::Breathscape),
        ];
        for (value, want) in cases {
            assert_eq!(category_of(value), want, "{value:?}");
        }
    }

    #[test]
    fn maps_title_content_category_date_and_flags() {
        let p = page(json!({
            "Name": rich("title", "Sensor v3 battery"),
            "Content": rich("rich_text", "Nine days per charge."),
            "Category": select("Hardware"),
            "Date": {"id": "d", "type": "date", "date": {"start": "2026-11-11T08:00:00.000+00:00", "end": null, "time_zone": null}},
            "Featured": {"id": "f", "type": "checkbox", "checkbox": true},
            "Priority": {"id": "p", "type": "number", "number": 2},
            "Content Type": select("Blog")
        }));
        let item = page_to_item(&p).unwrap();
        assert_eq!(
            item,
            NotionItem {
                title: "Sensor v3 battery".into(),
                content: "Nine days per charge.".into(),
                category: Category::Hardware,
                date: Some("2026-11-11".into()),
                featured: Some(true),
                priority: Some(2),
                content_type: Some("blog".into()),
            }
        );
    }

    #[test]
    fn fallbacks_title_description_type_and_created_time() {
        let p = page(json!({
            "Title": rich("rich_text", "  "),
            "Description": rich("rich_text", "Breathe out longer than in."),
            "Type": select("Wellness"),
            "Priority": select("3")
        }));
        let item = page_to_item(&p).unwrap();
        assert_eq!(item.title, "Untitled");
        assert_eq!(item.content, "Breathe out longer than in.");
        assert_eq!(item.category, Category::Tips);
        // No Date property: the page's creation day, never "now".
        assert_eq!(item.date.as_deref(), Some("2026-11-02"));
        assert_eq!(item.priority, Some(3));
        assert_eq!(item.featured, None);
        assert_eq!(item.content_type, None);
    }

    #[test]
    fn defaults_to_breathscape_and_skips_empty_pages() {
        let p = page(json!({"Name": rich("title", "Only a title")}));
        let item = page_to_item(&p).unwrap();
        assert_eq!(item.category, Category::Breathscape);
        assert_eq!(item.content, "");
        assert!(page_to_item(&page(json!({"Category": select("Hardware")}))).is_none());
        let mut archived = page(json!({"Name": rich("title", "Old")}));
        archived["archived"] = json!(true);
        assert!(page_to_item(&archived).is_none());
    }

    #[test]
    fn out_of_range_priority_and_odd_types_are_dropped() {
        let p = page(json!({
            "Name": rich("title", "x"),
            "Priority": {"type": "number", "number": 9},
            "Content Type": select("blog; featured: true -->")
        }));
        let item = page_to_item(&p).unwrap();
        assert_eq!(item.priority, None);
        assert_eq!(item.content_type, None);
    }

    #[test]
    fn renders_sections_in_category_order() {
        let item = |title: &str, category, content: &str| NotionItem {
            title: title.into(),
            content: content.into(),
            category,
            date: Some("2026-11-18".into()),
            featured: None,
            priority: None,
            content_type: None,
        };
        let mut flagged = item(
            "Sleep Sessions",
            Category::Breathscape,
            "Here.\n\nSecond paragraph.",
        );
        flagged.featured = Some(true);
        flagged.priority = Some(1);
        flagged.content_type = Some("announcement".into());
        let md = items_to_markdown(
            "Team notes",
            &[
                item("Why we build", Category::Vision, "Calm is a skill."),
                flagged,
                item("Box breathing", Category::Tips, "Four counts."),
            ],
        );
        assert_eq!(
            md,
            "# Team notes\n\n## [Breathscape] Recent Updates\n\n### Sleep Sessions\n<!-- featured: true; priority: 1; type: announcement -->\n- **Date:** 2026-11-18\n- **Content:** Here.\n\nSecond paragraph.\n\n## [Tips] Breathing Techniques\n\n### Box breathing\n- **Date:** 2026-11-18\n- **Content:** Four counts.\n\n## [Vision] Company Mission\n\n### Why we build\n- **Date:** 2026-11-18\n- **Content:** Calm is a skill.\n"
        );
    }
}
