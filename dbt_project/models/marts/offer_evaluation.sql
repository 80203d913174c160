-- The offers checked against what people bought next (issue 17), one row per as-of date
-- and offer rule. Buyers with two baskets or more (a fixed sample of evaluation_buyers,
-- seed offer_settings) have their last basket hidden; each rule recommends up to three
-- products from what is left (the same SQL as tonight's offers, macro offer_candidates),
-- and a hit is a recommended product in the hidden basket. The baseline offers everyone
-- the three products bought by the most buyers of what is left. Both are read over the
-- same people: the buyers to whom the rule had something to offer.
--
-- "What is left" is everyone's purchases without the hidden baskets. Its product facts
-- are tonight's (int_product_pairs_counted, int_product_transitions_counted) less what the
-- hidden baskets added to them, which gives the same counts as counting again without
-- them (tests/test_offers.py recomputes the evaluation from the export files), at the
-- cost of the sample rather than of the whole history.
with

order_lines as (

    select * from {{ ref('int_order_lines_resolved') }}

),

offer_settings as (

    select * from {{ ref('offer_settings') }}

),

product_pairs as (

    select * from {{ ref('int_product_pairs_counted') }}

),

product_transitions as (

    select * from {{ ref('int_product_transitions_counted') }}

),

account_products as (

    select * from {{ ref('int_account_products') }}
    where purchase_days > 0

),

repeat_buyers as (

    select
        account_id,
        max(last_bought) as hidden_day,
        max(account_baskets) as baskets,
        row_number() over (order by md5(account_id)) as sample_rank

    from account_products
    group by account_id
    having max(account_baskets) >= 2

),

-- a fixed sample (the first evaluation_buyers by the MD5 of their id; all of them in a
-- smaller company), so that the evaluation costs the same at any size
evaluated_buyers as (

    select
        repeat_buyers.account_id,
        repeat_buyers.hidden_day,
        repeat_buyers.baskets

    from repeat_buyers
    cross join offer_settings
    where repeat_buyers.sample_rank <= offer_settings.evaluation_buyers

),

-- the evaluated buyers' own lines: what the rules see of them, and the hidden baskets
sample_lines as (

    select
        order_lines.*,
        evaluated_buyers.hidden_day,
        evaluated_buyers.baskets

    from order_lines
    inner join evaluated_buyers
        on order_lines.account_id = evaluated_buyers.account_id

),

lines_before_last as (

    select
        account_id,
        transaction_date,
        sku,
        line_kind,
        quantity,
        order_lines

    from sample_lines
    where transaction_date < hidden_day

),

hidden_products as (

    select distinct
        account_id,
        sku,
        baskets,
        transaction_date > {{ purchase_window_start() }} as is_in_window

    from sample_lines
    where
        line_kind = 'purchase'
        and transaction_date = hidden_day

),

-- what the hidden baskets of the purchase window added to the pairs
hidden_pairs as (

    select
        antecedent.sku as antecedent_sku,
        consequent.sku as consequent_sku,
        count(*) as baskets_with_both

    from hidden_products as antecedent
    inner join hidden_products as consequent
        on
            antecedent.account_id = consequent.account_id
            and antecedent.sku != consequent.sku
    where antecedent.is_in_window
    group by antecedent.sku, consequent.sku

),

hidden_product_baskets as (

    select
        sku,
        count(*) as baskets

    from hidden_products
    where is_in_window
    group by sku

),

hidden_window_baskets as (

    select count(distinct account_id) as baskets
    from hidden_products
    where is_in_window

),

pairs_before_last as (

    select
        product_pairs.antecedent_sku,
        product_pairs.consequent_sku,
        product_pairs.baskets_with_both
        - coalesce(hidden_pairs.baskets_with_both, 0) as baskets_with_both,
        product_pairs.antecedent_baskets
        - coalesce(hidden_antecedent.baskets, 0) as antecedent_baskets,
        product_pairs.consequent_baskets
        - coalesce(hidden_consequent.baskets, 0) as consequent_baskets,
        product_pairs.window_baskets - hidden_window_baskets.baskets as window_baskets

    from product_pairs
    cross join hidden_window_baskets
    left join hidden_pairs
        on
            product_pairs.antecedent_sku = hidden_pairs.antecedent_sku
            and product_pairs.consequent_sku = hidden_pairs.consequent_sku
    left join hidden_product_baskets as hidden_antecedent
        on product_pairs.antecedent_sku = hidden_antecedent.sku
    left join hidden_product_baskets as hidden_consequent
        on product_pairs.consequent_sku = hidden_consequent.sku
    where product_pairs.baskets_with_both > coalesce(hidden_pairs.baskets_with_both, 0)

),

-- a hidden basket that was a buyer's second took back their transitions: from the
-- products of their first basket to those of the hidden one
hidden_first_products as (

    select distinct
        lines_before_last.account_id,
        lines_before_last.sku

    from lines_before_last
    inner join evaluated_buyers
        on lines_before_last.account_id = evaluated_buyers.account_id
    where
        evaluated_buyers.baskets = 2
        and lines_before_last.line_kind = 'purchase'

),

hidden_transitions as (

    select
        hidden_first_products.sku as first_sku,
        hidden_products.sku as next_sku,
        count(*) as buyers

    from hidden_first_products
    inner join hidden_products
        on hidden_first_products.account_id = hidden_products.account_id
    group by hidden_first_products.sku, hidden_products.sku

),

hidden_first_buyers as (

    select
        sku as first_sku,
        count(*) as buyers

    from hidden_first_products
    group by sku

),

transitions_before_last as (

    select
        product_transitions.first_sku,
        product_transitions.next_sku,
        product_transitions.buyers - coalesce(hidden_transitions.buyers, 0) as buyers,
        product_transitions.first_sku_buyers
        - coalesce(hidden_first_buyers.buyers, 0) as first_sku_buyers

    from product_transitions
    left join hidden_transitions
        on
            product_transitions.first_sku = hidden_transitions.first_sku
            and product_transitions.next_sku = hidden_transitions.next_sku
    left join hidden_first_buyers
        on product_transitions.first_sku = hidden_first_buyers.first_sku
    where product_transitions.buyers > coalesce(hidden_transitions.buyers, 0)

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

-- what the evaluated buyers bought before their hidden basket
products_before_last as (

    {{ account_products('lines_before_last') }}

),

candidates as (

    {{ offer_candidates(
        'products_before_last', 'pairs_before_last', 'transitions_before_last',
        'no_segments', 'wanted', 'offer_settings'
    ) }}

),

-- the buyers of each product, less the evaluated buyers who bought it only in their
-- hidden basket
product_buyers as (

    select
        sku,
        count(*) as buyers

    from account_products
    group by sku

),

hidden_only_buyers as (

    select
        hidden_products.sku,
        count(*) as buyers

    from hidden_products
    left join lines_before_last
        on
            hidden_products.account_id = lines_before_last.account_id
            and hidden_products.sku = lines_before_last.sku
            and lines_before_last.line_kind = 'purchase'
    where lines_before_last.sku is null
    group by hidden_products.sku

),

best_sellers as (

    select
        product_buyers.sku,
        row_number() over (
            order by
                product_buyers.buyers - coalesce(hidden_only_buyers.buyers, 0) desc,
                product_buyers.sku asc
        ) as seller_rank

    from product_buyers
    left join hidden_only_buyers
        on product_buyers.sku = hidden_only_buyers.sku
    where product_buyers.buyers > coalesce(hidden_only_buyers.buyers, 0)

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
        {{ hit_rate('per_rule.hits_at_1', 'per_rule.buyers_with_offer') }} as hit_rate_at_1,
        {{ hit_rate('per_rule.hits_at_3', 'per_rule.buyers_with_offer') }} as hit_rate_at_3,
        {{ hit_rate('per_rule.baseline_hits_at_1', 'per_rule.buyers_with_offer') }}
            as baseline_hit_rate_at_1,
        {{ hit_rate('per_rule.baseline_hits_at_3', 'per_rule.buyers_with_offer') }}
            as baseline_hit_rate_at_3

    from evaluated_rules
    left join per_rule
        on evaluated_rules.offer_rule = per_rule.offer_rule

)

select * from final
