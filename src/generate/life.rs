//! One customer's life, in order: the profile, natural purchases, campaigns, deals, the
//! orders they lead to, web events, service, account management. Each step lives in its own
//! module ([`super::customer`], [`super::engagement`], [`super::pipeline`]); this one only
//! calls them in order, so those modules never need each other's order.

use super::affinity;
use super::customer::{BlockSim, natural_orders};
use super::rng::Rng;
use super::{engagement, pipeline};
use crate::Result;

impl BlockSim<'_> {
    /// Simulates customer number `index` (from its own random stream) into the block's tables.
    pub fn customer(&mut self, index: u64) -> Result<()> {
        let w = self.w;
        let mut rng = Rng::new(w.seed, index);
        let c = self.profile(index, &mut rng);
        self.s.orders.clear();
        self.s.items.clear();
        self.s.responses.clear();
        self.s.activities = 0;
        self.s.cross_sell = Some(Rng::new(w.seed, affinity::stream(index)));
        natural_orders(w, &c, &mut rng, &mut self.s);
        engagement::campaigns(self, &c, &mut rng);
        pipeline::deals(self, &c, &mut rng);
        self.emit_orders(&c);
        engagement::events(self, &c, &mut rng);
        engagement::service(self, &c, &mut rng);
        pipeline::account_management(self, &c, &mut rng);
        Ok(())
    }
}
