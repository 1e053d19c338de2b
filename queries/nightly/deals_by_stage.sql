-- Open deals by their current (latest) stage, with the amount in play.
select
    h.stage,
    count(*) as open_deals,
    sum(d.amount) as amount
from deals d
join (
    select deal_id, stage, row_number() over (partition by deal_id order by entered_at desc) as rn
    from deal_stage_history
) h on h.deal_id = d.deal_id and h.rn = 1
where d.status = 'open'
group by h.stage
order by open_deals desc, h.stage
