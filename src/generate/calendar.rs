//! Time in the simulation: whole seconds from the start of the period (midnight UTC), the
//! calendar months the period touches, seasonal demand, and working hours.

use chrono::{Datelike, Months, NaiveDate};

use super::rng::Rng;
use crate::{Error, Result};

pub const DAY: i64 = 86_400;
pub const HOUR: i64 = 3_600;
/// Demand by calendar month, January first: summer dip, November/December peak.
const SEASON: [f32; 12] = [
    0.85, 0.85, 0.95, 0.95, 0.95, 0.85, 0.80, 0.80, 1.00, 1.05, 1.35, 1.55,
];

/// Days and months of the period. Simulation time is whole seconds from the period start
/// (midnight UTC); `end` is the last second of `as_of`.
pub struct Calendar {
    pub as_of: NaiveDate,
    start_unix: i64,
    pub days: i64,
    pub end: i64,
    first_weekday: i64,
    month_of_day: Vec<u16>,
    season: Vec<f32>,
    /// First day (days since the Unix epoch) of each calendar month the period touches.
    month_first: Vec<i32>,
}

impl Calendar {
    pub fn new(start: NaiveDate, months: u32) -> Result<Self> {
        let bad = || {
            Error::Usage(format!(
                "--start {start} plus {months} months is out of range"
            ))
        };
        let as_of = start
            .checked_add_months(Months::new(months))
            .and_then(|d| d.pred_opt())
            .ok_or_else(bad)?;
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or_else(bad)?;
        let start_day = start.signed_duration_since(epoch).num_days();
        let days = as_of.signed_duration_since(start).num_days() + 1;
        let key = |d: NaiveDate| d.year() as i64 * 12 + d.month0() as i64;
        let first_key = key(start);
        let mut month_of_day = Vec::with_capacity(days as usize);
        let mut season = Vec::with_capacity(days as usize);
        let mut month_first = Vec::new();
        let mut d = start;
        for _ in 0..days {
            let m = (key(d) - first_key) as usize;
            if m == month_first.len() {
                let first = d.with_day(1).ok_or_else(bad)?;
                month_first.push(first.signed_duration_since(epoch).num_days() as i32);
            }
            month_of_day.push(m as u16);
            season.push(SEASON[d.month0() as usize]);
            d = d.succ_opt().unwrap_or(d);
        }
        Ok(Calendar {
            as_of,
            start_unix: start_day * DAY,
            days,
            end: days * DAY - 1,
            first_weekday: (start_day + 3).rem_euclid(7),
            month_of_day,
            season,
            month_first,
        })
    }

    /// Microseconds since the Unix epoch of simulation time `t`.
    pub fn us(&self, t: i64) -> i64 {
        (self.start_unix + t) * 1_000_000
    }

    fn day_index(&self, t: i64) -> usize {
        (t.div_euclid(DAY)).clamp(0, self.days - 1) as usize
    }

    /// Calendar-month bucket of `t` (0 = the month the period starts in).
    pub fn month_of(&self, t: i64) -> usize {
        self.month_of_day
            .get(self.day_index(t))
            .copied()
            .unwrap_or(0) as usize
    }

    pub fn months(&self) -> usize {
        self.month_first.len()
    }

    /// Demand weight of the day of `t`.
    pub fn season(&self, t: i64) -> f64 {
        self.season.get(self.day_index(t)).copied().unwrap_or(1.0) as f64
    }

    pub const SEASON_MAX: f64 = 1.55;

    /// 0 = Monday … 6 = Sunday.
    pub fn weekday(&self, t: i64) -> i64 {
        (self.first_weekday + t.div_euclid(DAY)) % 7
    }

    /// Start (simulation seconds, clamped to the period) of month bucket `m`.
    pub fn month_start(&self, m: usize) -> i64 {
        let first = self.month_first.get(m).copied().unwrap_or(0) as i64 * DAY - self.start_unix;
        first.max(0)
    }

    /// `t` if it falls on a working day, moved into office hours on that same day; `None` on
    /// weekends (the caller draws another time).
    pub fn workday(&self, t: i64, rng: &mut Rng) -> Option<i64> {
        if self.weekday(t) >= 5 {
            return None;
        }
        let sec = t.rem_euclid(DAY);
        let day = t - sec;
        Some(if (8 * HOUR..19 * HOUR).contains(&sec) {
            t
        } else {
            day + 9 * HOUR + rng.range(0, 9 * HOUR)
        })
    }

    /// A working time at or after `t`, spread over the following days rather than piled
    /// onto Monday morning.
    pub fn work_after(&self, mut t: i64, rng: &mut Rng) -> i64 {
        for _ in 0..6 {
            if let Some(w) = self.workday(t, rng) {
                if w >= t {
                    return w;
                }
                t = w + DAY;
                continue;
            }
            t += rng.range(DAY / 2, 2 * DAY);
        }
        self.office_hours(t, rng)
    }

    /// Moves `t` into office hours (Mon–Fri, 08:00–19:00), as a sales team works.
    pub fn office_hours(&self, t: i64, rng: &mut Rng) -> i64 {
        let day = t.div_euclid(DAY);
        let sec = t.rem_euclid(DAY);
        let wd = self.weekday(t);
        let next_morning = |d: i64, rng: &mut Rng| d * DAY + 8 * HOUR + rng.range(0, 2 * HOUR);
        if wd >= 5 {
            next_morning(day + 7 - wd, rng)
        } else if sec < 8 * HOUR {
            next_morning(day, rng)
        } else if sec >= 19 * HOUR {
            next_morning(day + if wd == 4 { 3 } else { 1 }, rng)
        } else {
            t
        }
    }
}

impl Calendar {
    /// First day of month bucket `m`, as days since the Unix epoch (a Date32 value).
    pub fn month_first_day(&self, m: usize) -> i32 {
        self.month_first.get(m).copied().unwrap_or(0)
    }

    /// First day of month bucket `m`.
    pub fn month_date(&self, m: usize) -> NaiveDate {
        let first = self.month_first.get(m).copied().unwrap_or(0) as i64;
        NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|e| e.checked_add_signed(chrono::TimeDelta::days(first)))
            .unwrap_or(self.as_of)
    }
}
