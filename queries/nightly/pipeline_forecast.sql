-- Weighted open pipeline per expected close month.
select * from pipeline_forecast order by 1
