"""Leadership's pages for people, rooms and children: thin, every change through people.services."""

from django.contrib import messages
from django.shortcuts import redirect, render

from nursery.errors import ServiceError
from nursery.models import Child, Role
from nursery.permissions import get_object_in_nursery, role_required
from people import forms, services


def _child(request, pk) -> Child:
    return get_object_in_nursery(request, Child.objects.select_related("nursery", "room"), pk=pk)


@role_required(Role.LEADERSHIP)
def child_leaving(request, pk):
    child = _child(request, pk)
    form = forms.LeavingForm(request.POST or None, initial={"left_on": child.left_on})
    if request.method == "POST" and form.is_valid():
        try:
            services.mark_child_leaving(request.user, child=child, left_on=form.cleaned_data["left_on"],
                                        reason=form.cleaned_data["reason"])
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            left_on = form.cleaned_data["left_on"]
            messages.success(request, f"{child.first_name} leaves on {left_on:%-d %B %Y}." if left_on
                             else f"{child.first_name} is no longer leaving.")
            return redirect("consent:evidence", child.pk)
    return render(request, "people/child_leaving.html", {"child": child, "form": form})
