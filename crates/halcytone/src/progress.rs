//! The look of the command line's progress bars (indicatif): a 32-column bar, the percentage,
//! then what the template adds.

/// `bar` styled with `template` after the bar and its percentage.
pub fn styled(bar: indicatif::ProgressBar, template: &str) -> indicatif::ProgressBar {
    let style = indicatif::ProgressStyle::with_template(&format!(
        "[{{bar:32}}] {{percent:>3}}% {template}"
    ))
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
