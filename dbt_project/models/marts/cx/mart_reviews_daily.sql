-- One row per review date x review source (CONTRACT §3). Positive = 4-5 stars, negative =
-- 1-2 stars (CONTRACT §4); 3 stars is neither and is counted in neutral_reviews.
-- positive_rate and negative_rate are fractions of all reviews. Counts and stars_sum are
-- additive: sum them over any slice and recompute the rates and avg_stars = stars_sum / reviews.
with reviews as (
    select * from {{ ref('stg_reviews__reviews') }}
),

dated as (
    select
        {{ reporting_date('reviews.created_at') }} as review_date,
        reviews.source,
        reviews.stars
    from reviews
),

counted as (
    select
        review_date,
        source,
        count(*) as reviews,
        count(case when stars >= 4 then 1 end) as positive_reviews,
        count(case when stars <= 2 then 1 end) as negative_reviews,
        count(case when stars = 3 then 1 end) as neutral_reviews,
        cast(sum(stars) as {{ dbt.type_bigint() }}) as stars_sum
    from dated
    group by review_date, source
),

rated as (
    select
        review_date,
        source,
        reviews,
        positive_reviews,
        negative_reviews,
        neutral_reviews,
        stars_sum,
        round({{ safe_divide('stars_sum', 'reviews') }}, 4) as avg_stars,
        round({{ safe_divide('positive_reviews', 'reviews') }}, 6) as positive_rate,
        round({{ safe_divide('negative_reviews', 'reviews') }}, 6) as negative_rate
    from counted
)

select * from rated
