//! Where things go on screen: a pure function of the terminal size, shared by the
//! drawing code and by mouse hit-testing.

use ratatui::layout::{Constraint, Layout, Rect};

/// Below this the console shows a message instead of a garbled screen.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 18;

/// What the screen holds besides the grid, from the console's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// Presenter mode: big numbers above the grid, no side panels.
    pub presenter: bool,
    /// A scenario's step bar above the footer.
    pub step_bar: bool,
    /// The talk-track pane above the footer.
    pub notes: bool,
}

pub struct Areas {
    pub header: Rect,
    pub grid: Rect,
    /// Side panels (empty in presenter mode).
    pub side: Rect,
    /// Presenter mode's big numbers (empty otherwise).
    pub big: Rect,
    pub notes: Rect,
    pub step_bar: Rect,
    pub footer: Rect,
}

/// Rows of the presenter's big numbers (tui-big-text, half-height glyphs).
pub const BIG_ROWS: u16 = 6;
const NOTES_ROWS: u16 = 6;

pub fn areas(size: Rect, shape: Shape) -> Areas {
    let [header, body, notes, step_bar, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(if shape.notes { NOTES_ROWS } else { 0 }),
        Constraint::Length(u16::from(shape.step_bar)),
        Constraint::Length(2),
    ])
    .areas(size);
    if shape.presenter {
        let [big, grid] =
            Layout::vertical([Constraint::Length(BIG_ROWS), Constraint::Min(1)]).areas(body);
        return Areas {
            header,
            grid,
            side: Rect::default(),
            big,
            notes,
            step_bar,
            footer,
        };
    }
    // The side panels take a third, never less than 34 columns nor more than 60.
    let side_w = (body.width / 3)
        .clamp(34, 60)
        .min(body.width.saturating_sub(20));
    let [grid, side] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(side_w)]).areas(body);
    Areas {
        header,
        grid,
        side,
        big: Rect::default(),
        notes,
        step_bar,
        footer,
    }
}

pub fn too_small(size: Rect) -> bool {
    size.width < MIN_WIDTH || size.height < MIN_HEIGHT
}

/// Tile geometry for `n` tiles in `area` (inside the grid's border).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub area: Rect,
    pub cols: u16,
    pub rows: u16,
    pub tile_w: u16,
    pub tile_h: u16,
    /// How many tiles fit (may be fewer than `n`).
    pub visible: usize,
}

/// Picks the column count: tiles as large as the area allows (a tile looks square
/// at about twice as wide as high), and among sizes close to the best, the
/// squarest grid, so 100 clients make the dashboard's 10×10 on every size.
pub fn grid(n: usize, area: Rect) -> Grid {
    let n = n.max(1);
    let (w, h) = (area.width.max(1) as usize, area.height.max(1) as usize);
    let options: Vec<(usize, usize, usize, usize)> = (1..=n.min(w))
        .filter_map(|cols| {
            let rows = n.div_ceil(cols);
            let (tw, th) = (w / cols, h / rows);
            (tw > 0 && th > 0).then(|| ((tw / 2).min(th).max(tw.min(1)), cols, tw, th))
        })
        .collect();
    let best = options.iter().map(|o| o.0).max().unwrap_or(0);
    let choice = options
        .iter()
        .filter(|o| o.0 * 4 >= best * 3)
        .min_by_key(|(size, cols, _, _)| (cols.abs_diff(n.div_ceil(*cols)), usize::MAX - size));
    match choice {
        Some(&(_, cols, tw, th)) => Grid {
            area,
            cols: cols as u16,
            rows: n.div_ceil(cols) as u16,
            tile_w: tw as u16,
            tile_h: th as u16,
            visible: n,
        },
        // More tiles than cells: one cell each, as many as fit.
        None => Grid {
            area,
            cols: w as u16,
            rows: h as u16,
            tile_w: 1,
            tile_h: 1,
            visible: w * h,
        },
    }
}

impl Grid {
    pub fn tile_rect(&self, i: usize) -> Rect {
        let (c, r) = (
            (i % self.cols as usize) as u16,
            (i / self.cols as usize) as u16,
        );
        Rect::new(
            self.area.x + c * self.tile_w,
            self.area.y + r * self.tile_h,
            self.tile_w,
            self.tile_h,
        )
    }

    /// The tile under a screen cell.
    pub fn hit(&self, x: u16, y: u16) -> Option<usize> {
        if x < self.area.x || y < self.area.y {
            return None;
        }
        let (c, r) = (
            (x - self.area.x) / self.tile_w,
            (y - self.area.y) / self.tile_h,
        );
        if c >= self.cols || r >= self.rows {
            return None;
        }
        let i = r as usize * self.cols as usize + c as usize;
        (i < self.visible).then_some(i)
    }
}

/// The grid's inner area (inside its border) for a terminal size.
pub fn grid_inner(size: Rect, shape: Shape) -> Rect {
    let g = areas(size, shape).grid;
    Rect::new(
        g.x + 1,
        g.y + 1,
        g.width.saturating_sub(2),
        g.height.saturating_sub(2),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hundred_clients_make_a_ten_by_ten_grid() {
        for (w, h) in [(80, 24), (120, 40), (200, 60), (3840 / 8, 2160 / 16)] {
            let g = grid(100, grid_inner(Rect::new(0, 0, w, h), Shape::default()));
            assert_eq!((g.cols, g.rows), (10, 10), "at {w}x{h}");
        }
    }

    #[test]
    fn huge_fleets_fall_back_to_one_cell_tiles() {
        let g = grid(10_000, Rect::new(0, 0, 100, 40));
        assert_eq!((g.tile_w, g.tile_h), (1, 1));
        assert_eq!(g.visible, 4000);
        let g = grid(10_000, Rect::new(0, 0, 200, 60));
        assert!(g.visible >= 10_000);
    }

    #[test]
    fn hit_testing_matches_tile_rects() {
        let g = grid(100, Rect::new(1, 2, 100, 30));
        for i in [0, 9, 10, 55, 99] {
            let r = g.tile_rect(i);
            assert_eq!(g.hit(r.x, r.y), Some(i));
            assert_eq!(g.hit(r.x + r.width - 1, r.y + r.height - 1), Some(i));
        }
        assert_eq!(g.hit(0, 0), None);
    }
}
