-- The offers checked against what people bought next (issue 17), one row per as-of date
-- and offer rule. Every buyer with two baskets or more has their last basket hidden; the
-- product facts are counted again on what is left (everyone's purchases without their
-- last basket), each rule recommends up to three products from that (the same SQL as
-- tonight's offers, macro offer_candidates), and a hit is a recommended product in the
-- hidden basket. The baseline offers everyone the three products bought by the most
-- buyers of what is left. Both are read over the same people: the buyers to whom the
-- rule had something to offer.
with

order_lines as (

    select * from {{ ref('int_order_lines_resolved') }}

),

offer_settings as (

    select * from {{ ref('offer_settings') }}

),

evaluated_buyers as (

    select
        account_id,
        max(transaction_date) as hidden_day

    from order_lines
    where line_kind = 'purchase'
    group by account_id
    having count(distinct transaction_date) >= 2

),

lines_before_last as (

    select order_lines.*
    from order_lines
    left join evaluated_buyers
        on order_lines.account_id = evaluated_buyers.account_id
    where
        evaluated_buyers.account_id is null
        or order_lines.transaction_date < evaluated_buyers.hidden_day

),

hidden_products as (

    select distinct
        order_lines.account_id,
        order_lines.sku

    from order_lines
    inner join evaluated_buyers
        on
            order_lines.account_id = evaluated_buyers.account_id
            and order_lines.transaction_date = evaluated_buyers.hidden_day
    where order_lines.line_kind = 'purchase'

),

pairs_before_last as (

    {{ product_pair_counts('lines_before_last') }}

),

transitions_before_last as (

    {{ product_transition_counts('lines_before_last') }}

),

-- no segment rule is evaluated (a segment is tonight's, the hidden basket included)
no_segments as (

    select
        cast(null as varchar) as account_id,
        cast(null as varchar) as segment

    where false

),

evaluated_rules as (

    {%- for rule in ['next_after_first', 'most_rebought', 'favourite', 'bought_together'] %}
    select '{{ rule }}' as offer_rule
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

wanted as (

    select
        evaluated_buyers.account_id,
        cast(null as varchar) as segment,
        evaluated_rules.offer_rule

    from evaluated_buyers
    cross join evaluated_rules

),

candidates as (

    {{ offer_candidates(
        'lines_before_last', 'pairs_before_last', 'transitions_before_last',
        'no_segments', 'wanted', 'offer_settings'
    ) }}

),

best_sellers as (

    select
        sku,
        row_number() over (order by count(distinct account_id) desc, sku asc) as seller_rank

    from lines_before_last
    where line_kind = 'purchase'
    group by sku

),

scored as (

    select
        candidates.account_id,
        candidates.offer_rule,
        bool_or(candidates.candidate_rank = 1 and hidden_products.sku is not null) as is_hit_at_1,
        bool_or(hidden_products.sku is not null) as is_hit_at_3

    from candidates
    left join hidden_products
        on
            candidates.account_id = hidden_products.account_id
            and candidates.sku = hidden_products.sku
    where candidates.candidate_rank <= 3
    group by candidates.account_id, candidates.offer_rule

),

baseline as (

    select
        hidden_products.account_id,
        bool_or(best_sellers.seller_rank = 1) as is_hit_at_1,
        bool_or(best_sellers.seller_rank <= 3) as is_hit_at_3

    from hidden_products
    inner join best_sellers
        on hidden_products.sku = best_sellers.sku
    group by hidden_products.account_id

),

per_rule as (

    select
        scored.offer_rule,
        count(*) as buyers_with_offer,
        count(*) filter (where scored.is_hit_at_1) as hits_at_1,
        count(*) filter (where scored.is_hit_at_3) as hits_at_3,
        count(*) filter (where baseline.is_hit_at_1) as baseline_hits_at_1,
        count(*) filter (where baseline.is_hit_at_3) as baseline_hits_at_3

    from scored
    left join baseline
        on scored.account_id = baseline.account_id
    group by scored.offer_rule

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        evaluated_rules.offer_rule,
        cast((select count(*) from evaluated_buyers) as bigint) as buyers_evaluated,
        cast(coalesce(per_rule.buyers_with_offer, 0) as bigint) as buyers_with_offer,
        cast(coalesce(per_rule.hits_at_1, 0) as bigint) as hits_at_1,
        cast(coalesce(per_rule.hits_at_3, 0) as bigint) as hits_at_3,
        cast(coalesce(per_rule.baseline_hits_at_1, 0) as bigint) as baseline_hits_at_1,
        cast(coalesce(per_rule.baseline_hits_at_3, 0) as bigint) as baseline_hits_at_3,
        cast(
            round(
                cast(per_rule.hits_at_1 as decimal(38, 10))
                / nullif(per_rule.buyers_with_offer, 0),
                4
            ) as decimal(8, 4)
        ) as hit_rate_at_1,
        cast(
            round(
                cast(per_rule.hits_at_3 as decimal(38, 10))
                / nullif(per_rule.buyers_with_offer, 0),
                4
            ) as decimal(8, 4)
        ) as hit_rate_at_3,
        cast(
            round(
                cast(per_rule.baseline_hits_at_1 as decimal(38, 10))
                / nullif(per_rule.buyers_with_offer, 0),
                4
            ) as decimal(8, 4)
        ) as baseline_hit_rate_at_1,
        cast(
            round(
                cast(per_rule.baseline_hits_at_3 as decimal(38, 10))
                / nullif(per_rule.buyers_with_offer, 0),
                4
            ) as decimal(8, 4)
        ) as baseline_hit_rate_at_3

    from evaluated_rules
    left join per_rule
        on evaluated_rules.offer_rule = per_rule.offer_rule

)

select * from final
