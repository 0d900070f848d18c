//! Snapshots of the screens (TestBackend + insta) and the styles snapshots miss.

use std::collections::BTreeMap;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use super::app::{App, Msg, Overlay, TrafficView};
use super::theme::{Theme, glyph};
use super::{fixtures, layout, view};
use crate::scrape::{BindingSnapshot, FamilyKind, Presence, TargetStatus};

fn render(app: &App, theme: &Theme, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, app, theme)).unwrap();
    t.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn binding() -> BindingSnapshot {
    BindingSnapshot {
        at: fixtures::now(),
        kind: Some(FamilyKind::Legacy),
        presence: Presence::Present,
        successes: 1234.0,
        failures: BTreeMap::from([("mismatch".into(), 300.0), ("missing_header".into(), 8.0)]),
        failures_total: 308.0,
        rates: BTreeMap::from([
            ("success".into(), [Some(8.0), Some(8.1), Some(7.9)]),
            ("failures".into(), [Some(2.0), Some(2.0), Some(2.1)]),
            ("mismatch".into(), [Some(2.0), Some(2.0), Some(2.0)]),
        ]),
        failure_ratio: Some(0.2),
        targets: vec![TargetStatus {
            url: "http://127.0.0.1:8080/metrics".into(),
            up: true,
            error: None,
            last_success: Some(fixtures::now()),
            down_since: None,
            latency_ms: Some(1.5),
            reading: None,
            resets: 0,
        }],
        spark_success: vec![8, 9, 7, 8, 10, 8, 8, 9],
        spark_failures: vec![2, 2, 3, 1, 2, 2, 2, 2],
        hint: None,
    }
}

fn demo_app() -> App {
    let mut app = fixtures::app(100);
    app.update(Msg::Binding(Box::new(binding())));
    let view = TrafficView {
        running: true,
        achieved: 9.98,
        sent: 1540,
        passed: 1232,
        rejected: 308,
        p50_ms: Some(1.4),
        p99_ms: Some(4.2),
        ..Default::default()
    };
    app.traffic = view;
    app
}

#[test]
fn main_screen() {
    let buf = render(&demo_app(), &Theme::dark(), 120, 40);
    insta::assert_snapshot!("main_screen", text(&buf));
}

#[test]
fn detail_during_grace_shows_both_fingerprints() {
    let mut app = demo_app();
    let id = fixtures::fleet(100)[88].id.clone();
    app.overlay = Overlay::Detail(id);
    let buf = render(&app, &Theme::dark(), 120, 40);
    let t = text(&buf);
    assert!(t.contains("GRACE PERIOD"), "{t}");
    assert!(t.contains("00:01:30 more"), "{t}");
    insta::assert_snapshot!("detail_grace", t);
}

#[test]
fn help_overlay() {
    let mut app = demo_app();
    app.overlay = Overlay::Help;
    insta::assert_snapshot!("help", text(&render(&app, &Theme::dark(), 120, 40)));
}

#[test]
fn too_small_says_how_big_and_recovers() {
    let app = demo_app();
    let small = text(&render(&app, &Theme::dark(), 50, 12));
    insta::assert_snapshot!("too_small", small);
    for (w, h) in [(10, 5), (1, 1), (59, 40), (120, 17)] {
        let t = text(&render(&app, &Theme::dark(), w, h));
        assert!(w < 20 || t.contains("enlarge"), "{w}x{h}: {t}");
    }
    let t = text(&render(&app, &Theme::dark(), 80, 24));
    assert!(t.contains("Clients 100") && !t.contains("enlarge"), "{t}");
}

/// Snapshots do not capture colour: check each tile's background and glyph.
#[test]
fn tiles_carry_health_by_colour_and_glyph() {
    let app = demo_app();
    let mut themes = Theme::built_in();
    themes.push(Theme::mono());
    for theme in themes {
        let buf = render(&app, &theme, 120, 40);
        let visible = app.visible();
        let grid = layout::grid(visible.len(), layout::grid_inner(app.size, app.shape()));
        // One line per health, snapshotted: a palette change shows in review.
        let mut seen = std::collections::BTreeMap::new();
        for (i, c) in visible.iter().enumerate() {
            let r = grid.tile_rect(i);
            let h = c.health(app.now);
            let cell = &buf[(r.x + 2, r.y)];
            if !theme.mono {
                assert_eq!(
                    cell.bg,
                    theme.health_color(h),
                    "{}: tile {i} ({h:?})",
                    theme.name
                );
            }
            let row: String = (r.x..r.x + r.width)
                .map(|x| buf[(x, r.y)].symbol().to_string())
                .collect();
            assert!(
                row.contains(glyph(h)),
                "tile {i} shows {row:?}, not the {h:?} glyph"
            );
            seen.entry(format!("{h:?}")).or_insert_with(|| {
                format!(
                    "{h:?}: glyph {} fg {:?} bg {:?} {:?}",
                    glyph(h),
                    cell.fg,
                    cell.bg,
                    cell.modifier
                )
            });
        }
        assert_eq!(seen.len(), 5, "the demo shows five healths");
        let lines: Vec<String> = seen.into_values().collect();
        insta::assert_snapshot!(format!("theme_{}", theme.name), lines.join("\n"));
    }
}

#[test]
fn flashes_and_unexpected_marks_change_the_tile_style() {
    use ratatui::style::Modifier;
    let mut app = demo_app();
    let ids: Vec<String> = app.clients.iter().take(3).map(|c| c.id.clone()).collect();
    let at = app.at;
    let tiles = [(true, 0), (false, 0), (false, 1)];
    for (id, (ok, unexpected)) in ids.iter().zip(tiles) {
        app.traffic.per_client.insert(
            id.clone(),
            super::app::TileActivity {
                unexpected,
                last: Some((at, ok)),
                ..Default::default()
            },
        );
    }
    let buf = render(&app, &Theme::dark(), 120, 40);
    let grid = layout::grid(100, layout::grid_inner(app.size, app.shape()));
    let cell = |i: usize| buf[(grid.tile_rect(i).x + 2, grid.tile_rect(i).y)].clone();
    assert!(
        cell(0).modifier.contains(Modifier::UNDERLINED),
        "a pass flashes one way"
    );
    assert!(
        cell(1).modifier.contains(Modifier::REVERSED),
        "a refusal another"
    );
    assert_eq!(
        cell(2).bg,
        ratatui::style::Color::Magenta,
        "an unexpected outcome stands out"
    );
    assert!(!cell(3).modifier.contains(Modifier::REVERSED));
}

fn scenario_app() -> App {
    use super::app::{ScenarioMsg, ScenarioView, StepState};
    let mut app = demo_app();
    let plan = crate::scenario::model::load("full", None, &[]).unwrap();
    app.update(Msg::Scenario(ScenarioMsg::Started(ScenarioView::new(
        &plan,
    ))));
    let ends = app.at + std::time::Duration::from_secs(17);
    app.update(Msg::Scenario(ScenarioMsg::Step {
        index: 1,
        state: StepState::Running { ends: Some(ends) },
    }));
    app.message = None;
    app
}

#[test]
fn presenter_mode_shows_big_numbers_and_keeps_the_grid() {
    let mut app = demo_app();
    app.presenter = true;
    let buf = render(&app, &Theme::high_contrast(), 120, 40);
    let t = text(&buf);
    insta::assert_snapshot!("presenter", t);
    assert!(t.contains("binding successes") && t.contains("failure ratio"));
    assert!(!t.contains("Binding counters"), "the side panels are gone");
    // Every tile still shown, the grid taking the full width.
    let grid = layout::grid(100, layout::grid_inner(app.size, app.shape()));
    assert_eq!(grid.visible, 100);
    assert!(grid.area.width > 110, "{:?}", grid.area);
    // The success count is drawn big, in the theme's "good" colour.
    let a = layout::areas(buf.area, app.shape());
    let big_cells = (a.big.y + 1..a.big.y + a.big.height)
        .flat_map(|y| (a.big.x..a.big.x + a.big.width / 3).map(move |x| (x, y)))
        .filter(|&(x, y)| buf[(x, y)].symbol() != " ")
        .count();
    assert!(big_cells > 20, "big digits drawn: {big_cells} cells");
    let theme = Theme::high_contrast();
    let coloured = (a.big.y + 1..a.big.y + a.big.height)
        .flat_map(|y| (a.big.x..a.big.x + a.big.width / 3).map(move |x| (x, y)))
        .any(|(x, y)| buf[(x, y)].fg == theme.good);
    assert!(coloured);
}

#[test]
fn step_bar_and_notes_follow_the_scenario_and_language() {
    let mut app = scenario_app();
    app.show_notes = true;
    let t = text(&render(&app, &Theme::dark(), 120, 40));
    insta::assert_snapshot!("scenario_notes_en", t);
    assert!(
        t.contains("▶ Full flow · 2/4 Warm-up · 0:17 left · next: Live rotation"),
        "{t}"
    );
    assert!(t.contains("Traffic starts"), "English talk track: {t}");
    app.lang = "fr".into();
    let t = text(&render(&app, &Theme::dark(), 120, 40));
    assert!(t.contains("Le trafic démarre"), "French talk track: {t}");
}

#[test]
fn light_and_high_contrast_paint_their_background_and_thick_borders() {
    let app = demo_app();
    for theme in [Theme::light(), Theme::high_contrast()] {
        let buf = render(&app, &theme, 120, 40);
        // The header row's empty end and the grid's corner.
        assert_eq!(
            buf[(119, 0)].bg,
            theme.background.unwrap(),
            "{}",
            theme.name
        );
        let a = layout::areas(buf.area, app.shape());
        assert_eq!(buf[(a.grid.x, a.grid.y)].symbol(), "┏", "{}", theme.name);
    }
    let buf = render(&app, &Theme::dark(), 120, 40);
    let a = layout::areas(buf.area, app.shape());
    assert_eq!(buf[(a.grid.x, a.grid.y)].symbol(), "╭");
}

#[test]
fn the_header_says_read_only_or_advises_it_for_a_remote_gateway() {
    let mut app = demo_app();
    app.remote_gateway = true;
    let t = text(&render(&app, &Theme::dark(), 160, 40));
    assert!(
        t.lines()
            .next()
            .unwrap()
            .contains("restart with --readonly"),
        "{t}"
    );
    app.readonly = true;
    let t = text(&render(&app, &Theme::dark(), 160, 40));
    let header = t.lines().next().unwrap();
    assert!(
        header.contains("READ-ONLY") && !header.contains("restart"),
        "{header}"
    );
    assert!(!t.contains(" t traffic") && !t.contains("r rotate") && !t.contains("s scenario"));
}

/// Rows as odd as a registry can hold: a date in year 9999, no dates at all, a
/// name with escape sequences and wide characters. Drawn, never raw.
#[test]
fn odd_rows_are_drawn_escaped_and_never_break_the_frame() {
    let mut app = demo_app();
    let far = chrono::DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    app.clients[0].not_after = Some(far);
    app.clients[1].not_after = None;
    app.clients[1].not_before = None;
    app.clients[2].name = "evil\u{1b}[2J\u{7}クライアント-002".into();
    app.clients[2].cn = "cn\u{1b}]0;title\u{7}".into();
    for (i, size) in [(2, (120, 40)), (2, (60, 18)), (0, (200, 60))] {
        app.overlay = Overlay::Detail(app.clients[i].id.clone());
        let buf = render(&app, &Theme::dark(), size.0, size.1);
        let t = text(&buf);
        assert!(
            !t.contains('\u{1b}') && !t.contains('\u{7}'),
            "raw control bytes drawn"
        );
    }
    app.overlay = Overlay::Detail(app.clients[2].id.clone());
    let t = text(&render(&app, &Theme::dark(), 120, 40));
    assert!(t.contains("evil\\u{1b}[2J"), "escaped: {t}");
    // A wide character takes two cells (the text helper shows the second as a space).
    assert!(
        t.replace(' ', "").contains("クライアント-002"),
        "wide characters kept: {t}"
    );
}
