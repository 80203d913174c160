{#- The model's rows under test (the test's `where` config: night D) hold exactly the
    accounts of customer_segments for night D, each with its segment there. Fails with
    each account whose segment differs or that only one of the two holds. -#}
{% test segment_agrees_with_customer_segments(model, column_name) %}

with

model_rows as (

    select account_id, {{ column_name }} as model_segment
    from {{ model }}

),

customer_segments as (

    select account_id, segment as customer_segment
    from {{ ref('customer_segments') }}
    where as_of_date = {{ as_of_date() }}

),

final as (

    select
        coalesce(model_rows.account_id, customer_segments.account_id) as account_id,
        model_rows.model_segment,
        customer_segments.customer_segment

    from model_rows
    full outer join customer_segments
        on model_rows.account_id = customer_segments.account_id
    where model_rows.model_segment is distinct from customer_segments.customer_segment

)

select * from final

{% endtest %}
