-- Weighted open pipeline per expected close month, stages in funnel order within a month
-- (a month has several stages: ordering by the month alone left their order to chance).
select * from pipeline_forecast order by expected_close_month, stage_order
