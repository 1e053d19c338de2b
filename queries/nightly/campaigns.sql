-- Campaign effectiveness: conversion, uplift against the control group, ROI.
select * from campaign_effectiveness order by started_at nulls last, campaign_id
