//! Palettes as values: one struct, no colours scattered through the drawing code.
//! 256-colour indices, so terminals without truecolor render the same tiles; every
//! health also has a glyph, so the grid reads without colour. Users add palettes
//! as TOML files in the config folder's `themes/`.

use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::BorderType;
use serde::Deserialize;

use crate::domain::Health;

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub healthy: Color,
    pub expiring: Color,
    pub critical: Color,
    pub expired: Color,
    pub grace: Color,
    pub revoked: Color,
    pub text: Color,
    pub dim: Color,
    pub accent: Color,
    pub good: Color,
    pub bad: Color,
    pub warn: Color,
    /// Painted behind everything when set (light themes cannot trust the
    /// terminal's own background).
    pub background: Option<Color>,
    /// Thick borders, for projectors.
    pub bold_borders: bool,
    /// No colour at all (NO_COLOR): glyphs and modifiers carry everything.
    pub mono: bool,
}

impl Theme {
    pub fn dark() -> Self {
        Self {
            name: "dark".into(),
            healthy: Color::Indexed(28),
            expiring: Color::Indexed(178),
            critical: Color::Indexed(160),
            expired: Color::Indexed(88),
            grace: Color::Indexed(27),
            revoked: Color::Indexed(242),
            text: Color::Indexed(252),
            dim: Color::Indexed(245),
            accent: Color::Indexed(39),
            good: Color::Indexed(40),
            bad: Color::Indexed(196),
            warn: Color::Indexed(214),
            background: None,
            bold_borders: false,
            mono: false,
        }
    }

    /// For projectors: saturated colours, no dim greys, thick borders.
    pub fn high_contrast() -> Self {
        Self {
            name: "high-contrast".into(),
            healthy: Color::Indexed(34),
            expiring: Color::Indexed(226),
            critical: Color::Indexed(196),
            expired: Color::Indexed(124),
            grace: Color::Indexed(21),
            revoked: Color::Indexed(250),
            text: Color::Indexed(231),
            dim: Color::Indexed(231),
            accent: Color::Indexed(51),
            good: Color::Indexed(46),
            bad: Color::Indexed(196),
            warn: Color::Indexed(226),
            background: Some(Color::Indexed(16)),
            bold_borders: true,
            mono: false,
        }
    }

    /// For washed-out projectors: dark text on a white background.
    pub fn light() -> Self {
        Self {
            name: "light".into(),
            healthy: Color::Indexed(28),
            expiring: Color::Indexed(172),
            critical: Color::Indexed(160),
            expired: Color::Indexed(88),
            grace: Color::Indexed(25),
            revoked: Color::Indexed(244),
            text: Color::Indexed(16),
            dim: Color::Indexed(238),
            accent: Color::Indexed(25),
            good: Color::Indexed(28),
            bad: Color::Indexed(160),
            warn: Color::Indexed(130),
            background: Some(Color::Indexed(231)),
            bold_borders: true,
            mono: false,
        }
    }

    /// Okabe and Ito's colour-blind-safe palette: no red/green pair carries
    /// meaning (passes are blue, refusals vermillion), and every health keeps its glyph.
    pub fn colour_blind() -> Self {
        Self {
            name: "colour-blind".into(),
            healthy: Color::Rgb(0x00, 0x9e, 0x73),
            expiring: Color::Rgb(0xf0, 0xe4, 0x42),
            critical: Color::Rgb(0xd5, 0x5e, 0x00),
            expired: Color::Rgb(0xcc, 0x79, 0xa7),
            grace: Color::Rgb(0x00, 0x72, 0xb2),
            revoked: Color::Indexed(244),
            text: Color::Indexed(252),
            dim: Color::Indexed(247),
            accent: Color::Rgb(0x56, 0xb4, 0xe9),
            good: Color::Rgb(0x00, 0x72, 0xb2),
            bad: Color::Rgb(0xd5, 0x5e, 0x00),
            warn: Color::Rgb(0xe6, 0x9f, 0x00),
            background: None,
            bold_borders: false,
            mono: false,
        }
    }

    pub fn mono() -> Self {
        Self {
            name: "mono".into(),
            healthy: Color::Reset,
            expiring: Color::Reset,
            critical: Color::Reset,
            expired: Color::Reset,
            grace: Color::Reset,
            revoked: Color::Reset,
            text: Color::Reset,
            dim: Color::Reset,
            accent: Color::Reset,
            good: Color::Reset,
            bad: Color::Reset,
            warn: Color::Reset,
            background: None,
            bold_borders: false,
            mono: true,
        }
    }

    pub fn built_in() -> Vec<Theme> {
        vec![
            Self::dark(),
            Self::high_contrast(),
            Self::light(),
            Self::colour_blind(),
        ]
    }

    /// The themes `T` cycles through: monochrome alone when NO_COLOR is set (any
    /// value), else the built-in ones and the user's files from `dir`.
    pub fn available(dir: Option<&Path>) -> (Vec<Theme>, Vec<String>) {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return (vec![Self::mono()], Vec::new());
        }
        let mut themes = Self::built_in();
        let mut problems = Vec::new();
        let mut files: Vec<_> = dir
            .and_then(|d| std::fs::read_dir(d).ok())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("theme")
                .to_string();
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|t| Self::from_toml(&name, &t));
            match parsed {
                Ok(t) => {
                    themes.retain(|x| x.name != t.name);
                    themes.push(t);
                }
                Err(e) => problems.push(format!("theme {}: {e}", path.display())),
            }
        }
        (themes, problems)
    }

    /// A user's palette: a built-in `base` with the colours it names replaced.
    pub fn from_toml(name: &str, text: &str) -> Result<Theme, String> {
        let f: ThemeFile = toml::from_str(text).map_err(|e| crate::text::toml_error(text, &e))?;
        let mut t = match f.base.as_deref() {
            None => Self::dark(),
            Some(b) => Self::built_in()
                .into_iter()
                .find(|t| t.name == b)
                .ok_or_else(|| format!("base = {b:?} is not a built-in theme"))?,
        };
        t.name = name.to_string();
        let colour = |field: &str, v: &Option<String>, slot: &mut Color| -> Result<(), String> {
            if let Some(v) = v {
                *slot = Color::from_str(v).map_err(|_| {
                    format!("{field} = {v:?}: write a colour name, #rrggbb or 0-255")
                })?;
            }
            Ok(())
        };
        colour("healthy", &f.healthy, &mut t.healthy)?;
        colour("expiring", &f.expiring, &mut t.expiring)?;
        colour("critical", &f.critical, &mut t.critical)?;
        colour("expired", &f.expired, &mut t.expired)?;
        colour("grace", &f.grace, &mut t.grace)?;
        colour("revoked", &f.revoked, &mut t.revoked)?;
        colour("text", &f.text, &mut t.text)?;
        colour("dim", &f.dim, &mut t.dim)?;
        colour("accent", &f.accent, &mut t.accent)?;
        colour("good", &f.good, &mut t.good)?;
        colour("bad", &f.bad, &mut t.bad)?;
        colour("warn", &f.warn, &mut t.warn)?;
        if let Some(bg) = &f.background {
            let mut c = Color::Reset;
            colour("background", &Some(bg.clone()), &mut c)?;
            t.background = Some(c);
        }
        if let Some(b) = f.bold_borders {
            t.bold_borders = b;
        }
        Ok(t)
    }

    pub fn border(&self) -> BorderType {
        if self.bold_borders {
            BorderType::Thick
        } else {
            BorderType::Rounded
        }
    }

    pub fn health_color(&self, h: Health) -> Color {
        match h {
            Health::Healthy => self.healthy,
            Health::ExpiringSoon => self.expiring,
            Health::Critical => self.critical,
            Health::Expired => self.expired,
            Health::GracePeriod => self.grace,
            Health::Revoked => self.revoked,
        }
    }

    /// A tile's base style: the health as background, readable text on it.
    pub fn tile(&self, h: Health) -> Style {
        if self.mono {
            return match h {
                Health::Critical | Health::Expired => Style::new().add_modifier(Modifier::BOLD),
                Health::Revoked => Style::new().add_modifier(Modifier::DIM),
                _ => Style::new(),
            };
        }
        let fg = match h {
            Health::ExpiringSoon => Color::Black,
            _ => Color::White,
        };
        Style::new().bg(self.health_color(h)).fg(fg)
    }

    pub fn fg(&self, c: Color) -> Style {
        if self.mono {
            Style::new()
        } else {
            Style::new().fg(c)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ThemeFile {
    base: Option<String>,
    healthy: Option<String>,
    expiring: Option<String>,
    critical: Option<String>,
    expired: Option<String>,
    grace: Option<String>,
    revoked: Option<String>,
    text: Option<String>,
    dim: Option<String>,
    accent: Option<String>,
    good: Option<String>,
    bad: Option<String>,
    warn: Option<String>,
    background: Option<String>,
    bold_borders: Option<bool>,
}

/// One glyph per health, distinct without colour.
pub fn glyph(h: Health) -> &'static str {
    match h {
        Health::Healthy => "✓",
        Health::ExpiringSoon => "!",
        Health::Critical => "▲",
        Health::Expired => "✗",
        Health::GracePeriod => "⇄",
        Health::Revoked => "⊘",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_health_has_its_own_glyph_and_colour_in_every_theme() {
        let glyphs: std::collections::HashSet<_> = Health::ALL.iter().map(|h| glyph(*h)).collect();
        assert_eq!(glyphs.len(), Health::ALL.len());
        for t in Theme::built_in() {
            let colours: std::collections::HashSet<_> = Health::ALL
                .iter()
                .map(|h| format!("{:?}", t.health_color(*h)))
                .collect();
            assert_eq!(colours.len(), Health::ALL.len(), "{}", t.name);
        }
    }

    #[test]
    fn a_users_palette_starts_from_a_base_and_errors_name_the_field() {
        let t = Theme::from_toml("room", "base = \"light\"\nhealthy = \"#00ff00\"\n").unwrap();
        assert_eq!(t.name, "room");
        assert_eq!(t.healthy, Color::Rgb(0, 255, 0));
        assert_eq!(t.background, Theme::light().background);
        let e = Theme::from_toml("x", "grace = \"blurple\"\n").unwrap_err();
        assert!(e.contains("grace = \"blurple\""), "{e}");
        let e = Theme::from_toml("x", "base = \"neon\"\n").unwrap_err();
        assert!(e.contains("not a built-in theme"), "{e}");
        let e = Theme::from_toml("x", "colour = 1\n").unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }
}
