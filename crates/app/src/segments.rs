//! Segments as sends use them: the segment a send names, checked against the store and the
//! send's targets, and carried on the job as it was at that moment.

use crate::core::Core;
use crate::error::{AppError, AppResult};
use crate::jobs::spec::SegmentRef;
use crate::targets::{self, Target};
use halcytone_audience::Rule;

/// The segment a send names (`segment_id`), checked: it exists, its rule parses, and the
/// send includes the email channel.
pub async fn for_send(state: &Core, id: &str, target_names: &[String]) -> AppResult<SegmentRef> {
    let email = target_names
        .iter()
        .any(|t| matches!(targets::parse(t), Ok(Target::Email)));
    if !email {
        return Err(AppError::invalid(
            "segment_id",
            "segment_id: a segment selects newsletter recipients; add \"email\" to channels",
        ));
    }
    let seg = state.store.segment(id).await?.ok_or_else(|| {
        AppError::invalid(
            "segment_id",
            format!("segment_id: no segment {id} (GET /api/v2/segments lists them)"),
        )
    })?;
    Rule::parse(&seg.rule).map_err(|e| {
        AppError::invalid(
            "segment_id",
            format!("segment_id: the rule of {id} no longer parses: {e}"),
        )
    })?;
    Ok(SegmentRef {
        id: seg.id,
        name: seg.name,
        rule: seg.rule,
        intro: seg.intro,
        cta_text: seg.cta_text,
        cta_url: seg.cta_url,
    })
}
