{#-
    What to offer each person (issue 17): the product facts and the candidate offers,
    written once and used twice, for night D (int_account_products,
    int_account_first_baskets, int_product_pairs_counted, int_product_transitions_counted,
    int_accounts_offered) and
    by the offline evaluation (offer_evaluation), which runs the same rules on the history
    without each evaluated buyer's last purchase. Each macro returns a whole query;
    `lines` names a relation (or a CTE of the caller) with the columns of
    int_order_lines_resolved: account_id, transaction_date, sku, line_kind (`purchase` or
    `return`), quantity. A basket is an account's purchases of one day, as a transaction
    is in the purchase models.
-#}

{% macro product_pair_counts(lines) -%}
    {#- Products bought together, in baskets of the purchase window: per ordered pair of
        different products, the baskets holding both, each product's baskets, and all the
        window's baskets (support, confidence and lift follow from these counts). -#}
    with

    pair_window_lines as (

        select account_id, transaction_date, sku
        from {{ lines }}
        where
            line_kind = 'purchase'
            and transaction_date > {{ purchase_window_start() }}

    ),

    pair_product_baskets as (

        select
            sku,
            count(*) as baskets

        from pair_window_lines
        group by sku

    ),

    pair_window_baskets as (

        select count(*) as baskets
        from (select distinct account_id, transaction_date from pair_window_lines) as baskets

    ),

    pair_counts as (

        select
            antecedent.sku as antecedent_sku,
            consequent.sku as consequent_sku,
            count(*) as baskets_with_both

        from pair_window_lines as antecedent
        inner join pair_window_lines as consequent
            on
                antecedent.account_id = consequent.account_id
                and antecedent.transaction_date = consequent.transaction_date
                and antecedent.sku != consequent.sku
        group by antecedent.sku, consequent.sku

    )

    select
        pair_counts.antecedent_sku,
        pair_counts.consequent_sku,
        pair_counts.baskets_with_both,
        antecedent.baskets as antecedent_baskets,
        consequent.baskets as consequent_baskets,
        pair_window_baskets.baskets as window_baskets

    from pair_counts
    inner join pair_product_baskets as antecedent
        on pair_counts.antecedent_sku = antecedent.sku
    inner join pair_product_baskets as consequent
        on pair_counts.consequent_sku = consequent.sku
    cross join pair_window_baskets
{%- endmacro %}


{% macro first_two_baskets(lines) -%}
    {#- Each buyer's first two baskets: per account, the products of its first basket
        (basket_number 1) and of its second (2). What the transitions count (macro
        product_transition_counts); int_account_first_baskets keeps it up to date. -#}
    with

    first_baskets_numbered as (

        select
            account_id,
            transaction_date,
            row_number() over (
                partition by account_id order by transaction_date
            ) as basket_number

        from (
            select distinct account_id, transaction_date
            from {{ lines }}
            where line_kind = 'purchase'
        ) as baskets

    )

    select
        lines.account_id,
        first_baskets_numbered.basket_number,
        lines.sku

    from {{ lines }} as lines
    inner join first_baskets_numbered
        on
            lines.account_id = first_baskets_numbered.account_id
            and lines.transaction_date = first_baskets_numbered.transaction_date
    where
        lines.line_kind = 'purchase'
        and first_baskets_numbered.basket_number <= 2
{%- endmacro %}


{% macro product_transition_counts(first_baskets) -%}
    {#- From the first product to the next: per pair (a product of a buyer's first basket,
        a product of their second basket), the buyers who made it, and per first product
        the buyers who bought it first and came back for a second basket.
        `first_baskets`: the buyers' first two baskets (macro first_two_baskets). -#}
    with

    transition_returners as (

        select distinct account_id
        from {{ first_baskets }}
        where basket_number = 2

    ),

    transition_first_buyers as (

        select
            sku as first_sku,
            count(*) as first_sku_buyers

        from {{ first_baskets }}
        where
            basket_number = 1
            and account_id in (select transition_returners.account_id from transition_returners)
        group by sku

    ),

    transition_counts as (

        select
            first_basket.sku as first_sku,
            second_basket.sku as next_sku,
            count(*) as buyers

        from {{ first_baskets }} as first_basket
        inner join {{ first_baskets }} as second_basket
            on
                first_basket.account_id = second_basket.account_id
                and first_basket.basket_number = 1
                and second_basket.basket_number = 2
        group by first_basket.sku, second_basket.sku

    )

    select
        transition_counts.first_sku,
        transition_counts.next_sku,
        transition_counts.buyers,
        transition_first_buyers.first_sku_buyers

    from transition_counts
    inner join transition_first_buyers
        on transition_counts.first_sku = transition_first_buyers.first_sku
{%- endmacro %}


{% macro account_products(lines) -%}
    {#- Each account's products (issue 17): per account and product bought or returned,
        the days bought, the units, the first and last day bought, whether it was in the
        account's first basket, whether the account ever returned it, and the account's
        baskets. What the offer rules read of a person. -#}
    with

    product_accounts as (

        select
            account_id,
            min(transaction_date) as first_day,
            count(distinct transaction_date) as baskets

        from {{ lines }}
        where line_kind = 'purchase'
        group by account_id

    ),

    products as (

        select
            account_id,
            sku,
            count(*) filter (where line_kind = 'purchase') as purchase_days,
            coalesce(sum(quantity) filter (where line_kind = 'purchase'), 0) as quantity,
            min(transaction_date) filter (where line_kind = 'purchase') as first_bought,
            max(transaction_date) filter (where line_kind = 'purchase') as last_bought,
            bool_or(line_kind = 'return') as is_returned

        from {{ lines }}
        group by account_id, sku

    )

    select
        products.account_id,
        products.sku,
        products.purchase_days,
        products.quantity,
        products.first_bought,
        products.last_bought,
        coalesce(products.first_bought = product_accounts.first_day, false)
            as is_in_first_basket,
        products.is_returned,
        coalesce(product_accounts.baskets, 0) as account_baskets

    from products
    left join product_accounts
        on products.account_id = product_accounts.account_id
{%- endmacro %}


{% macro offer_candidates(products, pairs, transitions, segments, wanted, settings) -%}
    {#- Up to three candidate products per wanted (account, offer rule), best first
        (candidate_rank 1-3), with the product the choice rests on (basis_sku), the count
        that supports it (evidence) and what that count is out of (evidence_total), for
        the reason a marketer reads. Never a product the account returned.

        - `products`: each account's products (macro account_products);
        - `pairs`, `transitions`: product_pair_counts and product_transition_counts (of
          first_two_baskets) of the same history;
        - `segments`: every account's segment (account_id, segment), for best sellers;
        - `wanted`: (account_id, segment, offer_rule) to score;
        - `settings`: the one row of the seed offer_settings.

        The rules (seed offer_rules): `next_after_first` (what buyers whose first basket
        had one of the person's first products most often bought in their second),
        `most_rebought` (the person's product bought on the most days, at least two),
        `favourite` (the person's product bought on the most days), `bought_together`
        (a product often in the same basket as one of theirs, which they have not
        bought), `segment_best_seller` (bought by the most accounts of their segment),
        `first_order_best_seller` (the product most often in a first basket). -#}
    with

    offer_bought as (

        select * from {{ products }}
        where purchase_days > 0

    ),

    offer_returned as (

        select account_id, sku
        from {{ products }}
        where is_returned

    ),

    -- each rule is worked out only for the accounts that want it
    offer_wanted_rules as (

        select distinct
            account_id,
            offer_rule

        from {{ wanted }}

    ),

    -- the wanted accounts' products
    offer_history as (

        select offer_bought.*
        from offer_bought
        where offer_bought.account_id in (
            select offer_wanted_rules.account_id from offer_wanted_rules
        )

    ),

    favourite_ranked as (

        select
            offer_history.account_id,
            offer_history.sku,
            cast(null as varchar) as basis_sku,
            offer_history.purchase_days as evidence,
            offer_history.account_baskets as evidence_total,
            row_number() over (
                partition by offer_history.account_id
                order by
                    offer_history.purchase_days desc,
                    offer_history.quantity desc,
                    offer_history.last_bought desc,
                    offer_history.sku asc
            ) as candidate_rank

        from offer_history
        left join offer_returned
            on
                offer_history.account_id = offer_returned.account_id
                and offer_history.sku = offer_returned.sku
        where
            offer_returned.sku is null
            and offer_history.account_id in (
                select offer_wanted_rules.account_id from offer_wanted_rules
                where offer_wanted_rules.offer_rule in ('favourite', 'most_rebought')
            )

    ),

    rebought_ranked as (

        select
            account_id,
            sku,
            basis_sku,
            evidence,
            evidence_total,
            row_number() over (
                partition by account_id order by candidate_rank
            ) as candidate_rank

        from favourite_ranked
        where evidence >= 2

    ),

    -- the ten next products of each first product with the highest share of its
    -- returning buyers, among those with enough buyers: an account's three candidates come
    -- from its first products' ten (fewer only for a person who returned most of them)
    offer_ranked_transitions as (

        select
            transitions.first_sku,
            transitions.next_sku,
            transitions.buyers,
            transitions.first_sku_buyers,
            row_number() over (
                partition by transitions.first_sku
                order by
                    cast(transitions.buyers as double precision)
                    / transitions.first_sku_buyers desc,
                    transitions.buyers desc,
                    transitions.next_sku asc
            ) as next_rank

        from {{ transitions }} as transitions
        cross join {{ settings }} as settings
        where transitions.buyers >= settings.min_transition_buyers

    ),

    offer_top_transitions as (

        select * from offer_ranked_transitions
        where next_rank <= 10

    ),

    -- the ten products bought most often with each product (confidence), among the pairs
    -- with enough shared baskets and lift
    offer_ranked_pairs as (

        select
            pairs.antecedent_sku,
            pairs.consequent_sku,
            pairs.baskets_with_both,
            pairs.antecedent_baskets,
            row_number() over (
                partition by pairs.antecedent_sku
                order by
                    cast(pairs.baskets_with_both as double precision)
                    / pairs.antecedent_baskets desc,
                    pairs.baskets_with_both desc,
                    pairs.consequent_sku asc
            ) as partner_rank

        from {{ pairs }} as pairs
        cross join {{ settings }} as settings
        where
            pairs.baskets_with_both >= settings.min_pair_baskets
            -- lift: how much more often than chance the two share a basket
            and cast(pairs.baskets_with_both as double precision) * pairs.window_baskets
            >= settings.min_pair_lift * pairs.antecedent_baskets * pairs.consequent_baskets

    ),

    offer_top_pairs as (

        select * from offer_ranked_pairs
        where partner_rank <= 10

    ),

    -- what buyers of the same first products bought in their second basket
    next_scored as (

        select
            offer_history.account_id,
            transitions.next_sku as sku,
            transitions.first_sku as basis_sku,
            transitions.buyers as evidence,
            transitions.first_sku_buyers as evidence_total

        from offer_history
        inner join offer_top_transitions as transitions
            on offer_history.sku = transitions.first_sku
        where
            offer_history.is_in_first_basket
            and offer_history.account_id in (
            select offer_wanted_rules.account_id from offer_wanted_rules
            where offer_wanted_rules.offer_rule = 'next_after_first'
        )

    ),

    {{ _offers_ranked_by_share('next', exclude_bought=false) }},

    -- products often in the same basket as one of theirs, that they have not bought
    together_scored as (

        select
            offer_history.account_id,
            pairs.consequent_sku as sku,
            pairs.antecedent_sku as basis_sku,
            pairs.baskets_with_both as evidence,
            pairs.antecedent_baskets as evidence_total

        from offer_history
        inner join offer_top_pairs as pairs
            on offer_history.sku = pairs.antecedent_sku
        where offer_history.account_id in (
            select offer_wanted_rules.account_id from offer_wanted_rules
            where offer_wanted_rules.offer_rule = 'bought_together'
        )

    ),

    {{ _offers_ranked_by_share('together', exclude_bought=true) }},

    -- the segments of the accounts that want their segment's best seller
    offer_seller_segments as (

        select distinct wanted.segment
        from {{ wanted }} as wanted
        where wanted.offer_rule = 'segment_best_seller'

    ),

    -- the products bought by the most accounts of each such segment (any of their days)
    segment_sellers as (

        select
            segments.segment,
            offer_bought.sku,
            count(*) as buyers

        from offer_bought
        inner join {{ segments }} as segments
            on offer_bought.account_id = segments.account_id
        inner join offer_seller_segments
            on segments.segment = offer_seller_segments.segment
        group by segments.segment, offer_bought.sku

    ),

    segment_sizes as (

        select
            segments.segment,
            count(distinct offer_bought.account_id) as buyers

        from offer_bought
        inner join {{ segments }} as segments
            on offer_bought.account_id = segments.account_id
        inner join offer_seller_segments
            on segments.segment = offer_seller_segments.segment
        group by segments.segment

    ),

    -- the products most often in a first basket
    first_sellers as (

        select
            sku,
            count(*) as buyers

        from offer_bought
        where is_in_first_basket
        group by sku

    ),

    first_buyers as (

        select count(distinct account_id) as buyers
        from offer_bought

    ),

    -- the ten best sellers of each segment and of first baskets, with how many buyers they
    -- are out of: an account's three candidates come from them (fewer only for a person
    -- who returned most of them)
    best_sellers_ranked as (

        select
            segment_sellers.segment,
            'segment_best_seller' as offer_rule,
            segment_sellers.sku,
            segment_sellers.buyers,
            segment_sizes.buyers as total_buyers,
            row_number() over (
                partition by segment_sellers.segment
                order by segment_sellers.buyers desc, segment_sellers.sku asc
            ) as seller_rank

        from segment_sellers
        inner join segment_sizes
            on segment_sellers.segment = segment_sizes.segment

        union all

        select
            cast(null as varchar) as segment,
            'first_order_best_seller' as offer_rule,
            first_sellers.sku,
            first_sellers.buyers,
            first_buyers.buyers as total_buyers,
            row_number() over (
                order by first_sellers.buyers desc, first_sellers.sku asc
            ) as seller_rank

        from first_sellers
        cross join first_buyers

    ),

    -- a segment's list for its own accounts, the first-basket list for anyone who wants it
    best_seller_ranked as (

        select
            wanted.account_id,
            wanted.offer_rule,
            ranked_sellers.sku,
            cast(null as varchar) as basis_sku,
            ranked_sellers.buyers as evidence,
            ranked_sellers.total_buyers as evidence_total,
            row_number() over (
                partition by wanted.account_id, wanted.offer_rule
                order by ranked_sellers.seller_rank
            ) as candidate_rank

        from {{ wanted }} as wanted
        inner join best_sellers_ranked as ranked_sellers
            on
                wanted.offer_rule = ranked_sellers.offer_rule
                and (ranked_sellers.segment is null or ranked_sellers.segment = wanted.segment)
                and ranked_sellers.seller_rank <= 10
        left join offer_returned
            on
                wanted.account_id = offer_returned.account_id
                and ranked_sellers.sku = offer_returned.sku
        where offer_returned.sku is null

    ),

    offer_all_candidates as (

        {%- for rule, relation in [
            ('favourite', 'favourite_ranked'),
            ('most_rebought', 'rebought_ranked'),
            ('next_after_first', 'next_ranked'),
            ('bought_together', 'together_ranked'),
        ] %}
        select
            ranked.account_id,
            '{{ rule }}' as offer_rule,
            ranked.candidate_rank,
            ranked.sku,
            ranked.basis_sku,
            ranked.evidence,
            ranked.evidence_total

        from {{ relation }} as ranked
        where
            ranked.candidate_rank <= 3
            and ranked.account_id in (
                select wanted.account_id from {{ wanted }} as wanted
                where wanted.offer_rule = '{{ rule }}'
            )

        union all
        {%- endfor %}

        select
            account_id,
            offer_rule,
            candidate_rank,
            sku,
            basis_sku,
            evidence,
            evidence_total

        from best_seller_ranked
        where candidate_rank <= 3

    )

    select * from offer_all_candidates
{%- endmacro %}


{% macro _offers_ranked_by_share(name, exclude_bought) -%}
    {#- Two CTEs of offer_candidates for `<name>_scored` (account_id, sku, basis_sku,
        evidence, evidence_total): per account and product the basis with the highest share
        (evidence / evidence_total, then evidence, then basis), then the account's products
        ranked the same way into `<name>_ranked`; never a product the account returned,
        with `exclude_bought` never one it bought. -#}
    {{ name }}_best_basis as (

        select
            scored.*,
            row_number() over (
                partition by scored.account_id, scored.sku
                order by
                    cast(scored.evidence as double precision) / scored.evidence_total desc,
                    scored.evidence desc,
                    scored.basis_sku asc
            ) as basis_rank

        from {{ name }}_scored as scored

    ),

    {{ name }}_ranked as (

        select
            best_basis.account_id,
            best_basis.sku,
            best_basis.basis_sku,
            best_basis.evidence,
            best_basis.evidence_total,
            row_number() over (
                partition by best_basis.account_id
                order by
                    cast(best_basis.evidence as double precision) / best_basis.evidence_total desc,
                    best_basis.evidence desc,
                    best_basis.sku asc
            ) as candidate_rank

        from {{ name }}_best_basis as best_basis
        left join offer_returned
            on
                best_basis.account_id = offer_returned.account_id
                and best_basis.sku = offer_returned.sku
        {%- if exclude_bought %}
        left join offer_history as bought
            on
                best_basis.account_id = bought.account_id
                and best_basis.sku = bought.sku
        {%- endif %}
        where
            best_basis.basis_rank = 1
            and offer_returned.sku is null
            {%- if exclude_bought %}
            and bought.sku is null
            {%- endif %}

    )
{%- endmacro %}


{% macro hit_rate(hits, buyers) -%}
    {#- hits / buyers to 4 decimals, the same type on every warehouse; NULL without buyers. -#}
    cast(round(cast({{ hits }} as decimal(38, 10)) / nullif({{ buyers }}, 0), 4) as decimal(8, 4))
{%- endmacro %}
