//! Palettes as values: one struct, no colours scattered through the drawing code.
//! 256-colour indices, so terminals without truecolor render the same tiles; every
//! health also has a glyph, so the grid reads without colour.

use ratatui::style::{Color, Modifier, Style};

use crate::domain::Health;

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: &'static str,
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
    /// No colour at all (NO_COLOR): glyphs and modifiers carry everything.
    pub mono: bool,
}

impl Theme {
    pub fn dark() -> Self {
        Self {
            name: "dark",
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
            mono: false,
        }
    }

    pub fn mono() -> Self {
        Self {
            name: "mono",
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
            mono: true,
        }
    }

    /// The default: dark, or monochrome when NO_COLOR is set (any value).
    pub fn from_env() -> Self {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            Self::mono()
        } else {
            Self::dark()
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
    fn every_health_has_its_own_glyph_and_colour() {
        let t = Theme::dark();
        let glyphs: std::collections::HashSet<_> = Health::ALL.iter().map(|h| glyph(*h)).collect();
        assert_eq!(glyphs.len(), Health::ALL.len());
        let colours: std::collections::HashSet<_> = Health::ALL
            .iter()
            .map(|h| format!("{:?}", t.health_color(*h)))
            .collect();
        assert_eq!(colours.len(), Health::ALL.len());
    }
}
