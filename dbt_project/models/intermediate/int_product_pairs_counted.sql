-- Products bought together in the purchase window, as of night D (macro
-- product_pair_counts): every ordered pair of products that shared a basket.
{{ product_pair_counts(ref('int_order_lines_resolved')) }}
