//! Drawing: a pure function of the [`App`] and the [`Theme`].

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Sparkline, Wrap};

use super::app::{App, Level, LogView, Overlay};
use super::keys::{self, KEYS};
use super::layout::{self, MIN_HEIGHT, MIN_WIDTH};
use super::presenter;
use super::theme::{Theme, glyph};
use crate::domain::{Client, Health};
use crate::scrape::Presence;
use crate::text::{printable, truncate};

pub fn draw(f: &mut Frame, app: &App, theme: &Theme) {
    let size = f.area();
    if layout::too_small(size) {
        let text = format!(
            "enlarge the terminal to at least {MIN_WIDTH}×{MIN_HEIGHT} (now {}×{})",
            size.width, size.height
        );
        let y = size.height / 2;
        f.render_widget(
            Paragraph::new(text)
                .alignment(Alignment::Center)
                .wrap(Wrap { trim: true }),
            Rect::new(
                0,
                y.saturating_sub(1),
                size.width,
                size.height - y.saturating_sub(1),
            ),
        );
        return;
    }
    if let Some(bg) = theme.background {
        f.render_widget(Block::new().style(Style::new().bg(bg).fg(theme.text)), size);
    }
    let a = layout::areas(size, app.shape());
    header(f, app, theme, a.header);
    grid(f, app, theme, a.grid);
    if app.presenter {
        presenter::big_numbers(f, app, theme, a.big);
    } else {
        let log_rows = if app.log.is_some() { 9 } else { 0 };
        let [binding_area, log_area, traffic_area] = Layout::vertical([
            Constraint::Min(10),
            Constraint::Length(log_rows),
            Constraint::Length(9),
        ])
        .areas(a.side);
        binding_panel(f, app, theme, binding_area);
        if let Some(log) = &app.log {
            failing_panel(f, app, log, theme, log_area);
        }
        traffic_panel(f, app, theme, traffic_area);
    }
    if app.show_notes {
        presenter::notes(f, app, theme, a.notes);
    }
    if let Some(v) = &app.scenario {
        presenter::step_bar(f, app, v, theme, a.step_bar);
    }
    footer(f, app, theme, a.footer);
    match &app.overlay {
        Overlay::Help => help(f, app, theme),
        Overlay::Detail(id) => {
            if let Some(c) = app.client(id) {
                detail(f, app, theme, c);
            }
        }
        Overlay::ConfirmRotate { name, grace, .. } => confirm_rotate(f, app, theme, name, grace),
        Overlay::ConfirmQuit => dialog(
            f,
            theme,
            "Quit?",
            vec![
                Line::from("Traffic is running."),
                Line::from("y / Enter: stop it and quit      any other key: stay"),
            ],
            60,
        ),
        Overlay::ConfirmTraffic => {
            let cap = app
                .max_rate
                .map_or(String::new(), |m| format!(" (capped at {m}/s, --max-tps)"));
            dialog(
                f,
                theme,
                "Send traffic?",
                vec![
                    Line::from(format!(
                        "To {} at {}/s{cap}: 80 % valid, 20 % refused by design.",
                        printable(&app.gateway_host),
                        app.rate
                    )),
                    Line::from("y / Enter: start      any other key: cancel"),
                ],
                72,
            );
        }
        Overlay::PickScenario(i) => {
            let mut lines: Vec<Line> = app
                .scenarios
                .iter()
                .enumerate()
                .map(|(n, name)| {
                    let style = if n == *i {
                        theme.fg(theme.accent).add_modifier(Modifier::REVERSED)
                    } else {
                        Style::new()
                    };
                    Line::styled(format!(" {name} "), style)
                })
                .collect();
            lines.push(Line::styled(
                "↑↓ choose · Enter run · Esc close",
                theme.fg(theme.dim),
            ));
            dialog(f, theme, "Run a scenario", lines, 48);
        }
        Overlay::None | Overlay::Filter => {}
    }
}

fn header(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mode = if app.builtin {
        "built-in demo stack"
    } else {
        "connected"
    };
    let dot = |up: Option<bool>| match up {
        Some(true) => Span::styled("● ", theme.fg(theme.good)),
        Some(false) => Span::styled("● ", theme.fg(theme.bad).add_modifier(Modifier::BOLD)),
        None => Span::styled("○ ", theme.fg(theme.dim)),
    };
    let gw_up = app
        .binding
        .as_ref()
        .and_then(|b| b.targets.first())
        .map(|t| t.up);
    let gw_detail = app
        .binding
        .as_ref()
        .and_then(|b| b.targets.first())
        .map(|t| match (&t.error, t.latency_ms) {
            (Some(e), _) => format!("down: {e}"),
            (None, Some(ms)) => format!("{ms:.1} ms"),
            _ => String::new(),
        })
        .unwrap_or_default();
    let reg_up = if app.clients_error.is_some() {
        Some(false)
    } else if app.clients_loaded {
        Some(true)
    } else {
        None
    };
    let mut spans = vec![
        Span::styled(
            " mtls-console ",
            theme.fg(theme.accent).add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!("{mode} · tenant {} ", app.tenant),
            theme.fg(theme.text),
        ),
    ];
    if app.readonly {
        spans.push(Span::styled(
            "READ-ONLY ",
            theme.fg(theme.warn).add_modifier(Modifier::BOLD),
        ));
    } else if app.remote_gateway {
        spans.push(Span::styled(
            "remote gateway: restart with --readonly to only watch ",
            theme.fg(theme.warn),
        ));
    }
    spans.extend([
        Span::raw("│ gateway "),
        dot(gw_up),
        Span::styled(format!("{gw_detail} "), theme.fg(theme.dim)),
        Span::raw("│ registry "),
        dot(reg_up),
        Span::raw("│ api "),
        dot(app.ready.then_some(app.api != "none")),
    ]);
    if app.ready && app.api == "none" {
        spans.push(Span::styled("none (rotation off) ", theme.fg(theme.dim)));
    }
    if let Some(e) = &app.clients_error {
        spans.push(Span::styled(
            format!("stale: {} ", truncate(e, 40)),
            theme.fg(theme.warn),
        ));
    }
    spans.push(Span::raw("│ "));
    spans.push(Span::styled(
        app.now.format("%H:%M:%S UTC").to_string(),
        theme.fg(theme.text),
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn grid(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let visible = app.visible();
    let mut title = format!(" Clients {} ", visible.len());
    if let Some(h) = app.health_filter {
        title.push_str(&format!("· {} ", h.label()));
    }
    if !app.filter.is_empty() {
        title.push_str(&format!("· /{} ", printable(&app.filter)));
    }
    let block = panel(
        theme,
        Span::styled(title, theme.fg(theme.text).add_modifier(Modifier::BOLD)),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    if visible.is_empty() {
        let text = if !app.ready {
            app.start_error
                .clone()
                .unwrap_or_else(|| "starting…".into())
        } else if app.clients_loaded {
            "no client matches".into()
        } else {
            "reading the registry…".into()
        };
        f.render_widget(Paragraph::new(text).alignment(Alignment::Center), inner);
        return;
    }
    let g = layout::grid(visible.len(), inner);
    let selected = app.selected_index();
    let buf = f.buffer_mut();
    for (i, c) in visible.iter().enumerate().take(g.visible) {
        let r = g.tile_rect(i);
        let h = c.health(app.now);
        let mut style = theme.tile(h);
        let mut mark = "";
        if app.unacknowledged(&c.id) {
            style = if theme.mono {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style
                    .bg(ratatui::style::Color::Magenta)
                    .fg(ratatui::style::Color::White)
            };
            style = style.add_modifier(Modifier::BOLD | Modifier::SLOW_BLINK);
            mark = "‼";
        } else {
            match app.flash(&c.id) {
                Some(true) => style = style.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                Some(false) => {
                    style = style.add_modifier(Modifier::REVERSED | Modifier::BOLD);
                    mark = "✗";
                }
                None => {}
            }
        }
        let is_selected = selected == Some(i);
        // Leave a gap between tiles when there is room, so colours stay apart.
        let cell = Rect::new(
            r.x,
            r.y,
            if r.width > 3 { r.width - 1 } else { r.width },
            if r.height > 2 { r.height - 1 } else { r.height },
        );
        buf.set_style(cell, style);
        let number = c
            .index_hint()
            .map_or_else(|| (i + 1).to_string(), |n| n.to_string());
        let days = c
            .days_left(app.now)
            .map(|d| format!("{d}d"))
            .unwrap_or_default();
        let lines: Vec<String> = if cell.width >= 6 && cell.height >= 2 {
            vec![
                format!("{}{} {number}", glyph(h), mark),
                if h == Health::Revoked {
                    "off".into()
                } else {
                    days
                },
            ]
        } else if cell.width >= 4 {
            vec![format!("{}{number}", glyph(h))]
        } else {
            vec![glyph(h).to_string()]
        };
        let top = cell.y + cell.height.saturating_sub(lines.len() as u16) / 2;
        for (k, text) in lines.iter().enumerate() {
            let y = top + k as u16;
            if y >= cell.y + cell.height {
                break;
            }
            let text = truncate(text, cell.width as usize);
            let x = cell.x + (cell.width.saturating_sub(text.chars().count() as u16)) / 2;
            buf.set_string(x, y, &text, style);
        }
        if app
            .log
            .as_ref()
            .and_then(|l| l.client(&c.id))
            .is_some_and(|(_, recent)| recent > 0)
            && cell.width > 2
        {
            // Failing now, says the gateway's log: a flag in the corner keeps
            // the health colour readable.
            let flag = style.add_modifier(Modifier::BOLD);
            buf.set_string(cell.x + cell.width - 1, cell.y, "⚑", flag);
        }
        if is_selected {
            // Corners mark the selection without hiding the health colour.
            let sel = Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED);
            buf.set_string(cell.x, cell.y, "▛", sel);
            if cell.width > 1 {
                buf.set_string(cell.x + cell.width - 1, cell.y + cell.height - 1, "▟", sel);
            }
        }
    }
    if g.visible < visible.len() {
        let more = format!(" +{} more: filter with / or f ", visible.len() - g.visible);
        buf.set_string(
            area.x + 2,
            area.y + area.height - 1,
            more,
            theme.fg(theme.warn),
        );
    }
}

/// A panel's frame: rounded, dim border, the given title.
pub(super) fn panel<'a>(theme: &Theme, title: impl Into<Line<'a>>) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(theme.border())
        .border_style(theme.fg(theme.dim))
        .title(title)
}

fn rate_text(r: Option<f64>) -> String {
    r.map_or("-".into(), |v| format!("{v:.1}/s"))
}

fn binding_panel(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let title = match app.binding.as_ref().and_then(|b| b.kind) {
        Some(k) => format!(" Binding counters ({k:?}) "),
        None => " Binding counters ".to_string(),
    };
    let block = panel(
        theme,
        Span::styled(title, theme.fg(theme.text).add_modifier(Modifier::BOLD)),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(b) = &app.binding else {
        f.render_widget(
            Paragraph::new("waiting for the first scrape…").style(theme.fg(theme.dim)),
            inner,
        );
        return;
    };
    let mut lines = Vec::new();
    if b.presence == Presence::Absent
        && let Some(h) = &b.hint
    {
        lines.push(Line::styled(truncate(h, 200), theme.fg(theme.warn)));
    }
    let row = |name: &str, total: f64, rates: Option<&[Option<f64>; 3]>, style: Style| {
        let r = rates.copied().unwrap_or([None; 3]);
        Line::from(vec![
            Span::styled(format!("{:<12}", truncate(name, 12)), style),
            Span::styled(
                format!("{:>8}", total as u64),
                style.add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!(" {:>8} {:>8}", rate_text(r[0]), rate_text(r[2])),
                theme.fg(theme.dim),
            ),
        ])
    };
    lines.push(Line::styled(
        format!("{:<12}{:>8} {:>8} {:>8}", "", "total", "1s", "60s"),
        theme.fg(theme.dim),
    ));
    lines.push(row(
        "success",
        b.successes,
        b.rates.get("success"),
        theme.fg(theme.good),
    ));
    lines.push(row(
        "failures",
        b.failures_total,
        b.rates.get("failures"),
        theme.fg(theme.bad),
    ));
    for (reason, total) in &b.failures {
        lines.push(row(
            &format!(" {reason}"),
            *total,
            b.rates.get(reason),
            theme.fg(theme.text),
        ));
    }
    lines.push(Line::from(vec![
        Span::styled("failure ratio  ", theme.fg(theme.text)),
        Span::styled(
            b.failure_ratio
                .map_or("-".into(), |r| format!("{:.1} %", r * 100.0)),
            theme.fg(theme.warn).add_modifier(Modifier::BOLD),
        ),
    ]));
    for t in &b.targets {
        let state = if t.up {
            Span::styled("up", theme.fg(theme.good))
        } else {
            Span::styled(
                format!(
                    "DOWN {}",
                    t.error
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ),
                theme.fg(theme.bad).add_modifier(Modifier::BOLD),
            )
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", truncate(&t.url, 30)), theme.fg(theme.dim)),
            state,
        ]));
    }
    let text_h = (lines.len() as u16).min(inner.height);
    f.render_widget(
        Paragraph::new(lines),
        Rect::new(inner.x, inner.y, inner.width, text_h),
    );
    let left = inner.height.saturating_sub(text_h).min(8);
    if left >= 2 {
        let spark_h = (left / 2).max(1);
        let width = inner.width as usize;
        let tail = |v: &Vec<u64>| v[v.len().saturating_sub(width)..].to_vec();
        let ok = tail(&b.spark_success);
        let bad = tail(&b.spark_failures);
        f.render_widget(
            Sparkline::default().data(&ok).style(theme.fg(theme.good)),
            Rect::new(inner.x, inner.y + text_h, inner.width, spark_h),
        );
        f.render_widget(
            Sparkline::default().data(&bad).style(theme.fg(theme.bad)),
            Rect::new(
                inner.x,
                inner.y + text_h + spark_h,
                inner.width,
                left - spark_h,
            ),
        );
    }
}

fn traffic_panel(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let t = &app.traffic;
    let (state, style) = if t.running {
        ("RUNNING", theme.fg(theme.good).add_modifier(Modifier::BOLD))
    } else {
        ("stopped", theme.fg(theme.dim))
    };
    let block = panel(
        theme,
        Line::from(vec![
            Span::styled(
                " Traffic ",
                theme.fg(theme.text).add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!("{state} "), style),
        ]),
    );
    let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1} ms"));
    let unexpected_style = if t.unexpected > 0 {
        theme.fg(theme.bad).add_modifier(Modifier::BOLD)
    } else {
        theme.fg(theme.text)
    };
    let lines = vec![
        Line::from(format!(
            "rate {}/s   achieved {:.1}/s{}",
            app.rate,
            t.achieved,
            app.max_rate
                .map_or(String::new(), |m| format!("   cap {m}/s"))
        )),
        Line::styled("mix 80 % valid, 10 % header, 10 % JWT", theme.fg(theme.dim)),
        Line::from(vec![
            Span::raw(format!("sent {}  ", t.sent)),
            Span::styled(format!("passed {}  ", t.passed), theme.fg(theme.good)),
            Span::styled(format!("refused {}", t.rejected), theme.fg(theme.bad)),
        ]),
        Line::from(vec![
            Span::styled(format!("unexpected {}", t.unexpected), unexpected_style),
            Span::raw(format!("  errors {}  dropped {}", t.errors, t.dropped)),
        ]),
        Line::from(format!(
            "latency p50 {}  p99 {}",
            ms(t.p50_ms),
            ms(t.p99_ms)
        )),
    ];
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// Clients the gateway's log shows failing, the most in the last minutes first.
fn failing_panel(f: &mut Frame, app: &App, log: &LogView, theme: &Theme, area: Rect) {
    let block = panel(
        theme,
        Span::styled(
            " Failing now (gateway log, 5 min) ",
            theme.fg(theme.text).add_modifier(Modifier::BOLD),
        ),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let name = |id: &str| app.client(id).map_or(id.to_string(), |c| c.name.clone());
    let mut lines: Vec<Line> = log
        .failing
        .iter()
        .filter(|(_, _, recent)| *recent > 0)
        .take(inner.height.saturating_sub(1) as usize)
        .map(|(id, c, recent)| {
            let top = c
                .failures
                .iter()
                .max_by_key(|(_, n)| **n)
                .map_or(String::new(), |(r, _)| r.clone());
            Line::from(vec![
                Span::styled(format!("⚑ {recent:>5} "), theme.fg(theme.bad)),
                Span::styled(
                    format!("{:<24} ", truncate(&printable(&name(id)), 24)),
                    theme.fg(theme.text),
                ),
                Span::styled(truncate(&top, 16), theme.fg(theme.dim)),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled(
            "no binding failure in the last 5 minutes",
            theme.fg(theme.dim),
        ));
    }
    lines.push(Line::styled(
        format!(
            "{} events · {} unattributed · {} lines skipped",
            log.events, log.unattributed, log.skipped
        ),
        theme.fg(theme.dim),
    ));
    f.render_widget(Paragraph::new(lines), inner);
}

fn footer(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let [msg_area, keys_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let msg = if app.overlay == Overlay::Filter {
        Line::from(vec![
            Span::styled(" filter: ", theme.fg(theme.accent)),
            Span::raw(printable(&app.filter).into_owned()),
            Span::styled("▏ Enter keep · Esc clear", theme.fg(theme.dim)),
        ])
    } else if let Some((level, text, _)) = &app.message {
        let style = match level {
            Level::Info => theme.fg(theme.accent),
            Level::Error => theme.fg(theme.bad).add_modifier(Modifier::BOLD),
        };
        Line::styled(format!(" {}", printable(text)), style)
    } else {
        Line::default()
    };
    f.render_widget(Paragraph::new(msg), msg_area);
    let mut spans = Vec::new();
    for (keys, label) in keys::footer(app.readonly) {
        spans.push(Span::styled(
            format!(" {keys} "),
            theme.fg(theme.accent).add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(format!("{label} "), theme.fg(theme.dim)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), keys_area);
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub(super) fn dialog(f: &mut Frame, theme: &Theme, title: &str, lines: Vec<Line>, width: u16) {
    let area = centered(f.area(), width, lines.len() as u16 + 2);
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_type(BorderType::Thick)
                .border_style(theme.fg(theme.accent))
                .title(Span::styled(
                    format!(" {title} "),
                    Style::new().add_modifier(Modifier::BOLD),
                )),
        ),
        area,
    );
}

fn help(f: &mut Frame, app: &App, theme: &Theme) {
    let mut lines: Vec<Line> = KEYS
        .iter()
        .filter(|k| !(app.readonly && k.writes))
        .map(|k| {
            Line::from(vec![
                Span::styled(
                    format!(" {:<12}", k.keys),
                    theme.fg(theme.accent).add_modifier(Modifier::BOLD),
                ),
                Span::raw(k.help),
            ])
        })
        .collect();
    lines.push(Line::default());
    let legend: Vec<Span> = Health::ALL
        .iter()
        .flat_map(|h| {
            [
                Span::styled(format!(" {} ", glyph(*h)), theme.tile(*h)),
                Span::raw(format!(" {}  ", h.label())),
            ]
        })
        .collect();
    lines.push(Line::from(legend));
    lines.push(Line::styled(" Esc, Enter or ? closes", theme.fg(theme.dim)));
    dialog(f, theme, "Keys", lines, 96);
}

fn fmt_time(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".into(), |t| {
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    })
}

fn detail(f: &mut Frame, app: &App, theme: &Theme, c: &Client) {
    let h = c.health(app.now);
    let label = |s: &str| Span::styled(format!(" {s:<16}"), theme.fg(theme.dim));
    let mut lines = vec![
        Line::from(vec![
            label("name"),
            Span::styled(
                printable(&c.name).into_owned(),
                Style::new().add_modifier(Modifier::BOLD),
            ),
        ]),
        Line::from(vec![label("CN"), Span::raw(printable(&c.cn).into_owned())]),
        Line::from(vec![
            label("serial"),
            Span::raw(
                c.serial
                    .as_deref()
                    .map(|s| printable(s).into_owned())
                    .unwrap_or_else(|| "-".into()),
            ),
        ]),
        Line::from(vec![
            label("health"),
            Span::styled(format!(" {} {} ", glyph(h), h.label()), theme.tile(h)),
        ]),
        Line::from(vec![
            label("days left"),
            Span::raw(c.days_left(app.now).map_or("-".into(), |d| d.to_string())),
        ]),
        Line::from(vec![label("not before"), Span::raw(fmt_time(c.not_before))]),
        Line::from(vec![label("not after"), Span::raw(fmt_time(c.not_after))]),
        Line::from(vec![
            label("rotations"),
            Span::raw(c.rotation_count.to_string()),
        ]),
        Line::from(vec![
            label("last rotation"),
            Span::raw(fmt_time(c.last_rotated_at)),
        ]),
    ];
    let counts = |fp: &crate::domain::Fingerprint| {
        let pf = app
            .traffic
            .per_fingerprint
            .get(fp)
            .copied()
            .unwrap_or_default();
        Span::styled(
            format!("  ✓ {}  ✗ {}", pf.ok, pf.failed),
            theme.fg(theme.text),
        )
    };
    if let Some(fp) = &c.fingerprint {
        lines.push(Line::from(vec![
            label("fingerprint"),
            Span::raw(fp.to_colon_hex()[..47].to_string() + "…"),
            counts(fp),
        ]));
    }
    if let Some(prev) = &c.fingerprint_previous {
        lines.push(Line::from(vec![
            label("previous"),
            Span::raw(prev.to_colon_hex()[..47].to_string() + "…"),
            counts(prev),
        ]));
    }
    if c.in_grace(app.now) {
        let left = c
            .previous_cert_expires_at
            .map(|e| e - app.now)
            .unwrap_or_default();
        let secs = left.num_seconds().max(0);
        let banner = format!(
            "  GRACE PERIOD: both certificates are accepted for {:02}:{:02}:{:02} more  ",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        );
        let style = if theme.mono {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::new()
                .bg(theme.grace)
                .fg(ratatui::style::Color::White)
                .add_modifier(Modifier::BOLD)
        };
        lines.insert(0, Line::styled(banner, style));
    } else if c.fingerprint_previous.is_some() {
        lines.push(Line::styled(
            " grace period ended: the previous certificate is refused",
            theme.fg(theme.dim),
        ));
    }
    for p in &c.problems {
        lines.push(Line::styled(format!(" ⚠ {p}"), theme.fg(theme.warn)));
    }
    if let Some((log, recent)) = app.log.as_ref().and_then(|l| l.client(&c.id)) {
        let reasons: Vec<String> = log
            .failures
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        lines.push(Line::styled(
            format!(
                " gateway log: {} failures ({}), {recent} in the last 5 min, {} verified",
                log.total(),
                reasons.join(", "),
                log.successes
            ),
            theme.fg(theme.bad),
        ));
        // The latest events, newest first.
        for e in log.recent.iter().rev().take(5) {
            lines.push(Line::styled(
                format!("   {}  {}", e.at.format("%H:%M:%S%.3f"), e.what),
                theme.fg(theme.dim),
            ));
        }
    }
    lines.push(Line::styled(" r rotate · Esc close", theme.fg(theme.dim)));
    dialog(f, theme, "Client", lines, 96);
}

fn confirm_rotate(f: &mut Frame, app: &App, theme: &Theme, name: &str, grace: &str) {
    let unit = if app.builtin {
        "90s, 10m, 1h…"
    } else {
        "1h to 168h"
    };
    let lines = vec![
        Line::from(vec![
            Span::raw(" Rotate the certificate of "),
            Span::styled(
                printable(name).into_owned(),
                Style::new().add_modifier(Modifier::BOLD),
            ),
        ]),
        Line::from(vec![
            Span::raw(" grace period: "),
            Span::styled(
                format!(" {grace}▏"),
                theme
                    .fg(theme.accent)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ),
            Span::styled(format!("  (type to change: {unit})"), theme.fg(theme.dim)),
        ]),
        Line::styled(
            " The old and the new certificate both work until the grace period ends.",
            theme.fg(theme.dim),
        ),
        Line::from(" Enter rotate · Esc cancel"),
    ];
    dialog(f, theme, "Rotate certificate", lines, 80);
}
