-- The lift's 95 % interval (macro conversion_lift) on the worked examples of Newcombe
-- (1998), "Interval estimation for the difference between independent proportions:
-- comparison of eleven methods", Statistics in Medicine 17: 873-890, Table II, method 10
-- (hybrid score interval from Wilson intervals): every published bound, to its four
-- decimals. Also the edges: no conversion in either group, every person converted, and
-- groups of different sizes. Fails with a row per example that differs.

with

examples (listed, listed_converted, holdout, holdout_converted, published_low, published_high) as (

    values
    (70, 56, 80, 48, 0.0524, 0.3339),
    (10, 9, 10, 3, 0.1705, 0.8090),
    (7, 6, 7, 2, 0.0582, 0.8062),
    (56, 5, 29, 0, -0.0381, 0.1926),
    (10, 0, 20, 0, -0.1611, 0.2775),
    (10, 0, 10, 0, -0.2775, 0.2775),
    (10, 10, 20, 0, 0.6791, 1.0000),
    (10, 10, 10, 0, 0.6075, 1.0000)

),

computed as (

    select
        examples.*,
        {{ conversion_lift(
            'examples.listed', 'examples.listed_converted',
            'examples.holdout', 'examples.holdout_converted',
            min_group_size='1',
        ) }}

    from examples

),

final as (

    select *
    from computed
    where
        absolute_lift_low is null
        or absolute_lift_high is null
        or abs(absolute_lift_low - published_low) > 0.00005
        or abs(absolute_lift_high - published_high) > 0.00005

)

select * from final
