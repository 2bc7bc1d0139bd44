"""The webhook producer's records land where aiokafka's default partitioner would put them."""

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.webhooks.records import partition_by_key


@settings(max_examples=500, deadline=None)
@given(key=st.binary(max_size=80), partitions=st.integers(min_value=1, max_value=64))
def test_a_key_goes_to_the_default_partitioners_partition_every_time(
    key: bytes, partitions: int
) -> None:
    all_partitions = list(range(partitions))
    expected = DefaultPartitioner()(key, all_partitions, all_partitions)
    assert partition_by_key(key, all_partitions, all_partitions) == expected
    assert partition_by_key(key, all_partitions, all_partitions) == expected  # the cached hash


def test_a_record_without_a_key_goes_to_an_available_partition() -> None:
    assert partition_by_key(None, [0, 1, 2], [2]) == 2
