use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::*;
use crate::tui::fixtures;

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn ctrl_c() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
}

#[test]
fn t_starts_and_stops_traffic_and_waits_until_ready() {
    let mut app = App::new(true, "acme", Instant::now(), fixtures::now());
    assert!(
        app.update(key('t')).is_empty(),
        "nothing to start before the stack is up"
    );
    assert!(app.message.as_ref().unwrap().1.contains("not ready"));
    let mut app = fixtures::app(100);
    assert_eq!(
        app.update(key('t')),
        vec![Effect::StartTraffic { rate: 10.0 }]
    );
    assert!(app.traffic.running);
    assert_eq!(app.update(key('t')), vec![Effect::StopTraffic]);
    assert!(!app.traffic.running);
}

#[test]
fn plus_and_minus_step_the_rate_and_reach_a_running_engine() {
    let mut app = fixtures::app(100);
    assert!(app.update(key('+')).is_empty());
    assert_eq!(app.rate, 20.0);
    app.update(key('t'));
    assert_eq!(app.update(key('+')), vec![Effect::SetRate(50.0)]);
    assert_eq!(app.update(key('-')), vec![Effect::SetRate(20.0)]);
    for _ in 0..20 {
        app.update(key('-'));
    }
    assert_eq!(app.rate, 1.0);
    for _ in 0..20 {
        app.update(key('+'));
    }
    assert_eq!(app.rate, 50_000.0);
}

#[test]
fn arrows_and_hjkl_move_through_the_grid() {
    let mut app = fixtures::app(100);
    app.update(code(KeyCode::Right));
    assert_eq!(
        app.selected_index(),
        Some(0),
        "first move selects the first tile"
    );
    app.update(key('l'));
    app.update(code(KeyCode::Down));
    assert_eq!(app.selected_index(), Some(11), "10 columns");
    app.update(key('k'));
    app.update(key('h'));
    assert_eq!(app.selected_index(), Some(0));
    app.update(code(KeyCode::Up));
    assert_eq!(app.selected_index(), Some(0), "clamped at the edge");
    app.update(code(KeyCode::Esc));
    assert_eq!(app.selected, None);
}

#[test]
fn a_click_selects_the_tile_under_it() {
    let mut app = fixtures::app(100);
    let grid = layout::grid(100, layout::grid_inner(app.size, app.shape()));
    let r = grid.tile_rect(37);
    app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: r.x + 1,
        row: r.y,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(app.selected_index(), Some(37));
}

#[test]
fn r_confirms_with_an_editable_grace_then_rotates() {
    let mut app = fixtures::app(100);
    app.update(code(KeyCode::Right));
    assert!(app.update(key('r')).is_empty());
    let Overlay::ConfirmRotate {
        ref id, ref grace, ..
    } = app.overlay
    else {
        panic!("{:?}", app.overlay)
    };
    assert_eq!(grace, "90s");
    let id = id.clone();
    app.update(code(KeyCode::Backspace));
    app.update(code(KeyCode::Backspace));
    app.update(code(KeyCode::Backspace));
    for c in "2m".chars() {
        app.update(key(c));
    }
    let effects = app.update(code(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Rotate {
            id,
            name: "banque-bnp-paiement-000".into(),
            grace: Grace::Seconds(120)
        }]
    );
    assert_eq!(app.overlay, Overlay::None);
}

#[test]
fn r_without_selection_picks_an_expiring_client_and_esc_cancels() {
    let mut app = fixtures::app(100);
    app.update(key('r'));
    let Overlay::ConfirmRotate { id, .. } = app.overlay.clone() else {
        panic!()
    };
    let h = app.client(&id).unwrap().health(app.now);
    assert!(
        matches!(h, Health::ExpiringSoon | Health::Critical),
        "{h:?}"
    );
    assert!(app.update(code(KeyCode::Esc)).is_empty());
    assert_eq!(app.overlay, Overlay::None);
}

#[test]
fn a_revoked_client_is_not_offered_for_rotation() {
    let mut app = fixtures::app(100);
    app.selected = Some(format!("00000000-0000-4000-8000-{:012}", 97));
    app.update(key('r'));
    assert_eq!(app.overlay, Overlay::None);
    assert!(app.message.as_ref().unwrap().1.contains("is revoked"));
}

#[test]
fn a_bad_grace_is_refused_with_a_message() {
    let mut app = fixtures::app(100);
    app.update(key('r'));
    for _ in 0..3 {
        app.update(code(KeyCode::Backspace));
    }
    app.update(key('x'));
    assert!(app.update(code(KeyCode::Enter)).is_empty());
    assert!(app.message.as_ref().unwrap().1.contains("grace period"));
    assert!(matches!(app.overlay, Overlay::ConfirmRotate { .. }));
}

#[test]
fn grace_parsing() {
    assert_eq!(parse_grace("90s", true), Ok(Grace::Seconds(90)));
    assert_eq!(parse_grace("90", true), Ok(Grace::Seconds(90)));
    assert_eq!(parse_grace("24h", false), Ok(Grace::Hours(24)));
    assert_eq!(parse_grace("24", false), Ok(Grace::Hours(24)));
    assert!(
        parse_grace("90s", false)
            .unwrap_err()
            .contains("whole hours")
    );
    assert!(parse_grace("169h", false).is_err());
    assert!(parse_grace("0", true).is_err());
}

#[test]
fn enter_opens_the_detail_and_esc_closes_it() {
    let mut app = fixtures::app(100);
    app.update(code(KeyCode::Enter));
    assert_eq!(app.overlay, Overlay::None, "nothing selected");
    app.update(code(KeyCode::Right));
    app.update(code(KeyCode::Enter));
    assert!(matches!(app.overlay, Overlay::Detail(_)));
    app.update(code(KeyCode::Esc));
    assert_eq!(app.overlay, Overlay::None);
}

#[test]
fn slash_filters_by_name_cn_or_fingerprint() {
    let mut app = fixtures::app(100);
    app.update(key('/'));
    for c in "dhl".chars() {
        app.update(key(c));
    }
    assert!(app.visible().iter().all(|c| c.name.contains("dhl")));
    assert_eq!(app.visible().len(), 6);
    app.update(code(KeyCode::Enter));
    assert_eq!(app.overlay, Overlay::None);
    assert_eq!(app.filter, "dhl");
    app.update(key('/'));
    app.update(code(KeyCode::Esc));
    assert_eq!(app.visible().len(), 100);
    app.update(key('/'));
    for c in "0b0b0b0b0b".chars() {
        app.update(key(c));
    }
    assert_eq!(app.visible().len(), 1, "by fingerprint");
    // While typing, letters are text, not commands.
    app.update(key('q'));
    assert!(!app.should_quit);
}

#[test]
fn f_cycles_the_health_filter() {
    let mut app = fixtures::app(100);
    let mut seen = Vec::new();
    for _ in 0..7 {
        app.update(key('f'));
        seen.push((app.health_filter, app.visible().len()));
    }
    assert_eq!(
        seen,
        vec![
            (Some(Health::Healthy), 60),
            (Some(Health::ExpiringSoon), 15),
            (Some(Health::Critical), 10),
            (Some(Health::Expired), 0),
            (Some(Health::GracePeriod), 10),
            (Some(Health::Revoked), 5),
            (None, 100),
        ]
    );
}

#[test]
fn help_overlay_opens_and_closes() {
    let mut app = fixtures::app(100);
    app.update(key('?'));
    assert_eq!(app.overlay, Overlay::Help);
    app.update(key('?'));
    assert_eq!(app.overlay, Overlay::None);
}

#[test]
fn quit_asks_first_while_traffic_runs() {
    let mut app = fixtures::app(100);
    app.update(key('t'));
    assert!(app.update(key('q')).is_empty());
    assert_eq!(app.overlay, Overlay::ConfirmQuit);
    app.update(key('n'));
    assert_eq!(app.overlay, Overlay::None);
    app.update(ctrl_c());
    assert_eq!(
        app.update(key('y')),
        vec![Effect::StopTraffic, Effect::Quit]
    );
    assert!(app.should_quit);
    let mut idle = fixtures::app(100);
    assert_eq!(idle.update(ctrl_c()), vec![Effect::Quit]);
}

#[test]
fn unexpected_outcomes_stand_out_until_acknowledged() {
    let mut app = fixtures::app(100);
    let id = app.clients[3].id.clone();
    let mut view = TrafficView::default();
    view.per_client.insert(
        id.clone(),
        TileActivity {
            unexpected: 2,
            last: Some((app.at, false)),
            ..Default::default()
        },
    );
    app.update(Msg::Traffic(Box::new(view)));
    assert!(app.unacknowledged(&id));
    assert_eq!(app.flash(&id), Some(false));
    app.update(Msg::Tick {
        at: app.at + FLASH * 2,
        now: app.now,
    });
    assert_eq!(app.flash(&id), None, "the flash fades");
    assert!(app.unacknowledged(&id), "the unexpected mark does not");
    app.update(key('a'));
    assert!(!app.unacknowledged(&id));
}

#[test]
fn messages_from_the_background_update_the_state() {
    let mut app = fixtures::app(100);
    app.update(Msg::Clients(Err("registry down".into())));
    assert_eq!(app.clients.len(), 100, "the grid keeps its last state");
    assert_eq!(app.clients_error.as_deref(), Some("registry down"));
    app.update(Msg::Clients(Ok(fixtures::fleet(4))));
    assert_eq!((app.clients.len(), app.clients_error.clone()), (4, None));
    assert_eq!(
        app.update(Msg::Rotated(Ok("done".into()))),
        vec![Effect::RefreshClients]
    );
    app.update(Msg::Rotated(Err(
        "rate limit reached (429): retry in 60 s".into()
    )));
    let (level, text, _) = app.message.clone().unwrap();
    assert_eq!(
        (level, text.as_str()),
        (
            Level::Error,
            "rotation failed: rate limit reached (429): retry in 60 s"
        )
    );
    app.update(Msg::Tick {
        at: app.at + Duration::from_secs(60),
        now: app.now,
    });
    assert!(app.message.is_none(), "messages fade");
    app.update(Msg::StartFailed("cannot start".into()));
    assert_eq!(app.start_error.as_deref(), Some("cannot start"));
    app.update(Msg::Resize(80, 24));
    assert_eq!((app.size.width, app.size.height), (80, 24));
}

#[test]
fn s_picks_a_scenario_and_its_keys_drive_the_runner() {
    use crate::scenario::StepState;
    let mut app = fixtures::app(100);
    app.scenarios = vec!["full".into(), "traffic-only".into(), "rotation".into()];
    assert!(app.update(key('s')).is_empty());
    assert_eq!(app.overlay, Overlay::PickScenario(0));
    app.update(code(KeyCode::Down));
    app.update(code(KeyCode::Up));
    app.update(code(KeyCode::Up));
    assert_eq!(app.overlay, Overlay::PickScenario(2), "wraps around");
    assert_eq!(
        app.update(code(KeyCode::Enter)),
        vec![Effect::StartScenario("rotation".into())]
    );
    let plan = crate::scenario::model::load("full", None, &[]).unwrap();
    app.update(Msg::Scenario(ScenarioMsg::Started(ScenarioView::new(
        &plan,
    ))));
    assert!(app.scenario_running());
    let pause = Effect::ScenarioControl(ScenarioKey::Pause);
    assert_eq!(app.update(key(' ')), vec![pause]);
    app.update(Msg::Scenario(ScenarioMsg::Step {
        index: 1,
        state: StepState::Paused {
            left: Duration::from_secs(3),
        },
    }));
    assert_eq!(
        app.update(key(' ')),
        vec![Effect::ScenarioControl(ScenarioKey::Resume)]
    );
    assert_eq!(
        app.update(key('n')),
        vec![Effect::ScenarioControl(ScenarioKey::Skip)]
    );
    // The scenario owns the traffic and the rotations while it runs.
    for c in ['t', 'r', 's', '+'] {
        assert!(app.update(key(c)).is_empty(), "{c}");
    }
    assert!(app.message.as_ref().unwrap().1.contains("Esc aborts it"));
    // A failed step is said, the run goes on.
    app.update(Msg::Scenario(ScenarioMsg::Step {
        index: 2,
        state: StepState::Failed("API refused (429)".into()),
    }));
    let (level, text, _) = app.message.clone().unwrap();
    assert_eq!(level, Level::Error);
    assert!(
        text.contains("step 3 (Live rotation) failed: API refused (429)"),
        "{text}"
    );
    // Quitting asks first while it runs.
    assert!(app.update(key('q')).is_empty());
    assert_eq!(app.overlay, Overlay::ConfirmQuit);
    app.update(code(KeyCode::Esc));
    assert_eq!(
        app.update(code(KeyCode::Esc)),
        vec![Effect::ScenarioControl(ScenarioKey::Abort)]
    );
    assert_eq!(
        app.update(Msg::Scenario(ScenarioMsg::Finished("2 of 4 steps".into()))),
        vec![Effect::RefreshClients]
    );
    assert!(!app.scenario_running());
    assert!(app.update(key('q')).contains(&Effect::Quit));
}

#[test]
fn presenter_notes_theme_and_language_keys_toggle() {
    let mut app = fixtures::app(100);
    app.theme_count = 4;
    app.update(key('p'));
    assert!(app.presenter && app.shape().presenter);
    app.update(key('p'));
    assert!(!app.presenter);
    app.update(key('N'));
    assert!(app.show_notes && app.shape().notes);
    for expected in [1, 2, 3, 0] {
        app.update(key('T'));
        assert_eq!(app.theme, expected);
    }
    assert_eq!(app.lang, "en");
    app.update(key('L'));
    assert_eq!(app.lang, "fr");
    app.update(key('L'));
    assert_eq!(app.lang, "en");
}

#[test]
fn readonly_hides_scenarios() {
    let mut app = fixtures::app(100);
    app.readonly = true;
    app.scenarios = vec!["full".into()];
    assert!(app.update(key('s')).is_empty());
    assert_eq!(app.overlay, Overlay::None);
}

#[test]
fn traffic_to_another_gateway_is_confirmed_and_capped() {
    let mut app = fixtures::app(100);
    app.builtin = false;
    app.max_rate = Some(100.0);
    app.gateway_host = "gw.prod.example".into();
    assert!(app.update(key('t')).is_empty(), "asks first");
    assert_eq!(app.overlay, Overlay::ConfirmTraffic);
    assert!(app.update(key('x')).is_empty(), "any other key cancels");
    assert!(!app.traffic.running);
    app.update(key('t'));
    assert_eq!(
        app.update(key('y')),
        vec![Effect::StartTraffic { rate: 10.0 }]
    );
    for _ in 0..10 {
        app.update(key('+'));
    }
    assert_eq!(app.rate, 100.0, "the cap holds");
}

#[test]
fn the_gateway_log_view_reaches_the_app() {
    let mut app = fixtures::app(100);
    let mut tally = crate::gateway_log::Tally::default();
    let who = crate::gateway_log::Attributor::new(&app.clients);
    let id = app.clients[0].id.clone();
    let line = format!(
        "{{\"subject\": \"{id}\", \"event\": \"Certificate binding: fingerprint mismatch\"}}"
    );
    let now = fixtures::now();
    for _ in 0..3 {
        tally.add_line(&line, &who, now, None);
    }
    let view = LogView::from_tally(&tally, now);
    app.update(Msg::GatewayLog(Box::new(view.clone())));
    assert_eq!(app.log.as_ref(), Some(&view));
    assert_eq!(view.client(&id).map(|(_, n)| n), Some(3));
    assert!(view.client(&app.clients[1].id).is_none());
}
