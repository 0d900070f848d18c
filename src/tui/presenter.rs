//! What the back of the room sees: presenter mode's big numbers, a scenario's step
//! bar, and the talk-track pane.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tui_big_text::{BigText, PixelSize};

use super::app::{App, ScenarioView, StepState};
use super::theme::Theme;
use super::view::panel;
use crate::text::printable;

/// Successes, binding rejections and the failure ratio, in digits four rows tall.
pub fn big_numbers(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let (ok, failed, ratio) = match &app.binding {
        Some(b) => (
            format!("{}", b.successes as u64),
            format!("{}", b.failures_total as u64),
            b.failure_ratio
                .map_or("-".into(), |r| format!("{:.1}%", r * 100.0)),
        ),
        None => ("-".into(), "-".into(), "-".into()),
    };
    let cells: [(&str, String, Style); 3] = [
        ("binding successes", ok, theme.fg(theme.good)),
        ("binding rejections", failed, theme.fg(theme.bad)),
        ("failure ratio", ratio, theme.fg(theme.warn)),
    ];
    let columns = Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(area);
    for ((label, value, style), col) in cells.into_iter().zip(columns.iter()) {
        let [label_area, number_area] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(*col);
        f.render_widget(
            Paragraph::new(Line::styled(
                format!(" {label}"),
                theme.fg(theme.text).add_modifier(Modifier::BOLD),
            )),
            label_area,
        );
        // 8 columns a digit at half height, 4 in quadrants, else plain text.
        let len = value.chars().count() as u16;
        let size = if len * 8 < number_area.width {
            Some(PixelSize::HalfHeight)
        } else if len * 4 < number_area.width {
            Some(PixelSize::Quadrant)
        } else {
            None
        };
        let inset = Rect {
            x: number_area.x + 1,
            width: number_area.width.saturating_sub(1),
            ..number_area
        };
        match size {
            Some(px) => f.render_widget(
                BigText::builder()
                    .pixel_size(px)
                    .style(style.add_modifier(Modifier::BOLD))
                    .lines(vec![Line::from(value)])
                    .build(),
                inset,
            ),
            None => f.render_widget(
                Paragraph::new(Line::styled(value, style.add_modifier(Modifier::BOLD))),
                inset,
            ),
        }
    }
}

fn clock(d: Duration) -> String {
    let s = d.as_secs_f64().ceil() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// `▶ Full flow · 2/4 Warm-up · 0:17 left · next: Live rotation`, and the keys.
pub fn step_bar(f: &mut Frame, app: &App, v: &ScenarioView, theme: &Theme, area: Rect) {
    let total = v.steps.len();
    let title = |i: usize| v.steps.get(i).map_or("", |s| s.0.as_str());
    let mut spans = Vec::new();
    let bold = |s: Style| s.add_modifier(Modifier::BOLD);
    if let Some(done) = &v.done {
        let style = if v.failed > 0 {
            theme.fg(theme.bad)
        } else {
            theme.fg(theme.good)
        };
        spans.push(Span::styled(
            format!(
                " {} {}: {} ",
                if v.failed > 0 { "✗" } else { "✓" },
                v.title,
                done
            ),
            bold(style),
        ));
    } else {
        let (mark, left) = match &v.state {
            StepState::Running { ends: Some(end) } => {
                ("▶", Some(end.saturating_duration_since(app.at)))
            }
            StepState::Paused { left } => ("⏸ paused", Some(*left)),
            StepState::Failed(_) => ("✗", None),
            _ => ("▶", None),
        };
        spans.push(Span::styled(
            format!(" {mark} {} ", v.title),
            bold(theme.fg(theme.accent)),
        ));
        spans.push(Span::styled(
            format!("· {}/{total} {} ", v.current + 1, title(v.current)),
            bold(theme.fg(theme.text)),
        ));
        if let Some(l) = left {
            spans.push(Span::styled(
                format!("· {} left ", clock(l)),
                theme.fg(theme.text),
            ));
        }
        if v.current + 1 < total {
            spans.push(Span::styled(
                format!("· next: {} ", title(v.current + 1)),
                theme.fg(theme.dim),
            ));
        }
        spans.push(Span::styled(
            " space pause · n next · Esc abort",
            theme.fg(theme.dim),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The current step's talk track in the chosen language.
pub fn notes(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let block = panel(
        theme,
        Span::styled(
            format!(" Notes ({}) · L language · N hide ", app.lang),
            theme.fg(theme.text).add_modifier(Modifier::BOLD),
        ),
    );
    let text = app
        .scenario
        .as_ref()
        .and_then(|v| v.steps.get(v.current))
        .and_then(|(_, n)| n.get(&app.lang))
        .map(|t| printable(&t.replace('\n', " ")).into_owned())
        .unwrap_or_else(|| "no talk track: run a scenario with s".into());
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .style(theme.fg(theme.text))
            .block(block),
        area,
    );
}
