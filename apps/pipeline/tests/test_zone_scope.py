"""The zone row scope: grants cover sub-zones, access_all_zones sees everything."""

from __future__ import annotations

import pytest

from apps.pipeline.models import Asset
from apps.pipeline.selectors.network import zone_ids_visible, zone_scope_filter
from apps.pipeline.tests.conftest import pipeline_actor

pytestmark = pytest.mark.django_db


def test_a_grant_covers_the_zone_and_its_sub_zones(pipeline_network, zone_user):
    net = pipeline_network
    actor = pipeline_actor(zone_user(zones=[net.north]))

    assert zone_ids_visible(actor=actor) == {str(net.north.pk), str(net.north_1.pk)}
    codes = set(zone_scope_filter(Asset.objects.all(), actor=actor).values_list("code", flat=True))
    assert codes == {"A-NORTH-MAIN", "A-NORTH1-VALVE"}


def test_access_all_zones_sees_every_zone(pipeline_network):
    actor = pipeline_actor("admin")

    assert zone_ids_visible(actor=actor) is None
    assert zone_scope_filter(Asset.objects.all(), actor=actor).count() == 3


def test_no_grant_sees_nothing(pipeline_network):
    actor = pipeline_actor("staff")

    assert zone_scope_filter(Asset.objects.all(), actor=actor).count() == 0
