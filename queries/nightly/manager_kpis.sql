-- Manager KPIs for the 30 days ending at as_of (activity, idle days, deals, response time).
select * from manager_kpis order by department, manager_id
