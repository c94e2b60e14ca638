-- One row per response date x customer segment x survey channel, CES surveys only.
-- CES % = 100 x low effort / responses, low effort = score 5-7 on the 1-7 scale (recomputed
-- from the score in int_survey_responses_scored, never the vendor's label).
-- Counts and score_sum are additive: sum them over any slice and recompute
-- ces_pct = 100 x low_effort_responses / responses and avg_score = score_sum / responses.
-- Same shape as mart_csat_daily: macros/survey_mart.sql.
{{ survey_share_mart(
    survey_type="CES",
    flag_column="is_low_effort",
    count_column="low_effort_responses",
    pct_column="ces_pct",
) }}
