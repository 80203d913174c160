-- From a buyer's first basket to their second, as of night D (macro
-- product_transition_counts): every pair of products that was made.
{{ product_transition_counts(ref('int_order_lines_resolved')) }}
