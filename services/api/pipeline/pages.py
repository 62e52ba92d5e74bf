"""The keysets of the pipeline's lists (decision 026): one name and key each, and the
dependency that reads `cursor` and `limit` for it."""

from typing import Annotated

from fastapi import Depends

from services.api.pagination import IdKey, KeyId, Keyset, KeyText, KeyTime, PageRequest, paging
from services.api.search.service import SearchKey

# The catalogue by name, then region (two services share a name in different regions).
ServiceKey = tuple[KeyText, KeyText, KeyId]
# Colleagues by name: a user's name is not unique, the id settles ties.
ColleagueKey = tuple[KeyText, KeyId]
# Delegations in the order they start.
DelegationKey = tuple[KeyTime, KeyId]

SERVICES: Keyset[ServiceKey] = Keyset("pipeline-services", ServiceKey)
COLLEAGUES: Keyset[ColleagueKey] = Keyset("pipeline-colleagues", ColleagueKey)
# Contacts rank as the customer search does: rank, folded name, id.
CONTACTS: Keyset[SearchKey] = Keyset("pipeline-contacts", SearchKey)
# Requests and tasks newest first: ids grow with time.
REQUESTS: Keyset[IdKey] = Keyset("pipeline-requests", IdKey)
TASKS: Keyset[IdKey] = Keyset("pipeline-tasks", IdKey)
DELEGATIONS: Keyset[DelegationKey] = Keyset("pipeline-delegations", DelegationKey)

ServicePages = Annotated[PageRequest[ServiceKey], Depends(paging(SERVICES))]
ColleaguePages = Annotated[PageRequest[ColleagueKey], Depends(paging(COLLEAGUES))]
ContactPages = Annotated[PageRequest[SearchKey], Depends(paging(CONTACTS))]
RequestPages = Annotated[PageRequest[IdKey], Depends(paging(REQUESTS))]
TaskPages = Annotated[PageRequest[IdKey], Depends(paging(TASKS))]
DelegationPages = Annotated[PageRequest[DelegationKey], Depends(paging(DELEGATIONS))]
