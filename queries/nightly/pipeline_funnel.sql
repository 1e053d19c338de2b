-- The deal funnel over all history: reached, converted, lost and in progress per stage.
select * from pipeline_funnel order by stage_order
